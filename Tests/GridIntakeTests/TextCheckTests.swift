import Foundation
import GridDistrict
import GridHTTP
import GridSchema
import Testing

@testable import GridIntake

/// Free text is checked for markup by a hand-written scan; it must find exactly what the regular
/// expression it replaced finds.
@Suite struct TextCheckTests {
    static let pattern = try! NSRegularExpression(pattern: #"<\s*/?\s*[A-Za-z!][^>]*>"#)

    static func regexFinds(_ text: String) -> Bool {
        pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    @Test(arguments: [
        "<script>alert(1)</script>", "<b>bold</b>", "<img src=x>", "< / a>", "<!-- c -->", "<!DOCTYPE html>",
        "a <\u{2003}/\u{2028}p> b", "<\u{0C}i>", "x <a", "x < 3 and y > 2", "1<2>3", "<>a>", "< >", "</>", "<ä>", "<1a>",
        "plain text", "", "<", ">", "<<a>", "<a\n>", "<\u{00A0}a>", "<\u{000B}a>", "<\u{0085}a>", "< /\t a >",
    ])
    func examplesAgreeWithTheExpression(_ text: String) {
        #expect(ReportInput.containsTag(text) == Self.regexFinds(text), "\(text.debugDescription)")
    }

    /// Random strings over the characters that matter (with spaces of several kinds) agree too.
    @Test func randomStringsAgreeWithTheExpression() {
        // "<", ">" and letters several times over, so that many of the strings hold a tag.
        let alphabet: [Unicode.Scalar] = [
            "<", "<", "<", ">", ">", ">", "/", "!", "a", "a", "Z", "1", " ", " ", "\t", "\n", "\u{0B}", "\u{0C}", "\u{A0}", "\u{2028}", "\u{85}", "é",
            "&",
        ]
        var random = SeededRandom(state: 2026)
        var tags = 0
        for _ in 0..<20_000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<random.int(2...12) { text.append(random.pick(alphabet)) }
            let string = String(text)
            let expected = Self.regexFinds(string)
            if expected { tags += 1 }
            #expect(ReportInput.containsTag(string) == expected, "\(string.debugDescription)")
        }
        // Both answers occur often enough to mean something.
        #expect(tags > 1_000 && tags < 19_000, "\(tags) of 20,000 hold a tag")
    }

    @Test func controlCharactersOtherThanLineBreaksAndTabsAreRefused() {
        for scalar in (0...0x10FF).compactMap(Unicode.Scalar.init) {
            let refused = !ReportInput.checkText("a\(scalar)b", field: "f").filter { $0.reason == "contains control characters" }.isEmpty
            let expected = scalar.properties.generalCategory == .control && !["\n", "\r", "\t"].contains(scalar)
            #expect(refused == expected, "U+\(String(scalar.value, radix: 16))")
        }
    }
}

import Foundation
import GridSchema
import Testing

@testable import GridIntake

@Suite struct IntakePartsTests {
    @Test func open311DocumentsEscapeWhatTheyCarry() {
        let document = Open311Document(
            root: "errors",
            element: "error",
            records: [[("description", .text("a <b> & \"c\" \u{1}")), ("code", .number(400))]]
        )
        #expect(
            document.render(.xml).hasSuffix(
                "<errors><error><description>a &lt;b&gt; &amp; &quot;c&quot; </description><code>400</code></error></errors>"
            )
        )
        #expect(document.render(.json) == #"[{"description":"a <b> & \"c\" \u0001","code":400}]"#)
    }
}

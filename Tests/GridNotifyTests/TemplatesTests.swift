import Testing

@testable import GridNotify

/// The wording of a notice: placeholders filled from its facts, codes in words, in one pass.
@Suite struct TemplatesTests {
    @Test func aDispatchReadsWithItsFactsAndCodesInWords() {
        let facts = ["incident": "inc-7", "category": "占道经营", "grid": "G-01-02-03", "acknowledgeBy": "11-27 14:30", "deadline": "11-28 14:00"]
        #expect(
            Templates.line(type: "incident.dispatched", facts: facts, language: "zh")
                == "【网格】新派单 inc-7：占道经营（G-01-02-03），请于 11-27 14:30 前签收，11-28 14:00 前办结。"
        )
        #expect(
            Templates.line(type: "grid.mode.changed", facts: ["target": "C-01", "mode": "emergency", "reason": "flood"], language: "zh")
                == "【网格】C-01 已切换为应急模式：flood"
        )
    }

    @Test func aPlaceholderWithoutAFactIsLeftOut() {
        #expect(Templates.line(type: "incident.reopened", facts: ["incident": "inc-7"], language: "en") == "[Grid] Case inc-7 was reopened: ")
    }

    /// A value is text from outside (a reason, a note): it is written as it is, never read as
    /// placeholders, and braces in it are kept.
    @Test func aValueWithBracesIsWrittenAsItIs() {
        let line = Templates.line(type: "incident.handled", facts: ["incident": "inc-7", "note": "pipe {grid} fixed {"], language: "en")
        #expect(line == "[Grid] Case inc-7 handled: pipe {grid} fixed {")
        #expect(Templates.fill("a {b", facts: ["b": "x"], words: [:]) == "a {b")
    }

    @Test func anUnknownTypeOrLanguageFallsBack() {
        #expect(
            Templates.line(type: "incident.split", facts: ["incident": "inc-7", "type": "incident.split"], language: "fr")
                == "【网格】案件 inc-7：incident.split"
        )
    }
}

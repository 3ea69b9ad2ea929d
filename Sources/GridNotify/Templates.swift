import Foundation

/// How a channel wants its text.
public enum MessageStyle: String, Sendable, CaseIterable {
    /// One line, for SMS.
    case short
    /// A subject and a body, for email.
    case long
    /// The facts as JSON, with the short text, for webhooks and files.
    case structured
}

/// A message for one recipient on one channel: one or more notices (grouped).
public struct Message: Sendable {
    public var subject: String
    public var text: String
}

/// The messages' wording, per event type and language; `{name}` is replaced by the notice's fact
/// of that name (a missing fact leaves the placeholder out).
public enum Templates {
    public static let languages = ["zh", "en"]

    static let lines: [String: [String: String]] = [
        "zh": [
            "incident.dispatched": "【网格】新派单 {incident}：{category}（{grid}），请于 {acknowledgeBy} 前签收，{deadline} 前办结。",
            "incident.reopened": "【网格】案件 {incident} 已重新打开：{reason}",
            "incident.escalated": "【网格】案件 {incident}（{category}，{grid}）已上报至{level}：{reason}",
            "incident.overdue": "【网格】案件 {incident}（{category}，{grid}）已超期，期限 {deadline}。",
            "incident.verified": "【网格】案件 {incident} 核查{outcome}。",
            "incident.closed": "【网格】您反映的问题 {incident} 已办结，感谢您的参与。",
            "incident.registered": "【网格】案件 {incident} 已立案：{category}（{grid}）。",
            "incident.acknowledged": "【网格】案件 {incident} 已签收。",
            "incident.handled": "【网格】案件 {incident} 已处置：{note}",
            "grid.mode.changed": "【网格】{target} 已切换为{mode}模式：{reason}",
            "reminder": "【网格】提醒：案件 {incident}（{category}，{grid}）尚未签收，请于 {acknowledgeBy} 前处理。",
            "other": "【网格】案件 {incident}：{type}",
        ],
        "en": [
            "incident.dispatched": "[Grid] New case {incident}: {category} ({grid}). Acknowledge by {acknowledgeBy}, handle by {deadline}.",
            "incident.reopened": "[Grid] Case {incident} was reopened: {reason}",
            "incident.escalated": "[Grid] Case {incident} ({category}, {grid}) escalated to {level}: {reason}",
            "incident.overdue": "[Grid] Case {incident} ({category}, {grid}) is overdue; it was due {deadline}.",
            "incident.verified": "[Grid] Case {incident} verification {outcome}.",
            "incident.closed": "[Grid] The matter you reported, {incident}, is closed. Thank you.",
            "incident.registered": "[Grid] Case {incident} registered: {category} ({grid}).",
            "incident.acknowledged": "[Grid] Case {incident} acknowledged.",
            "incident.handled": "[Grid] Case {incident} handled: {note}",
            "grid.mode.changed": "[Grid] {target} switched to {mode} mode: {reason}",
            "reminder": "[Grid] Reminder: case {incident} ({category}, {grid}) is not acknowledged; act by {acknowledgeBy}.",
            "other": "[Grid] Case {incident}: {type}",
        ],
    ]

    static let subjects: [String: (one: String, many: String)] = [
        "zh": ("网格通知：{first}", "网格通知：{count} 条"),
        "en": ("Grid notice: {first}", "Grid notices: {count}"),
    ]

    /// Words for fact values that are codes (modes, outcomes, rungs).
    static let words: [String: [String: String]] = [
        "zh": [
            "emergency": "应急", "normal": "常态", "passed": "通过", "failed": "未通过，需返工", "grid-chief": "网格长", "instructor": "网格指导员",
            "community": "社区", "town": "街道", "grid-worker": "网格员",
        ],
        "en": ["passed": "passed", "failed": "failed; rework needed"],
    ]

    public static func line(type: String, facts: [String: String], language: String) -> String {
        let language = languages.contains(language) ? language : "zh"
        return fill(lines[language]![type] ?? lines[language]!["other"]!, facts: facts, words: words[language] ?? [:])
    }

    /// The template with each `{name}` replaced by that fact (a code by its word), in one pass:
    /// a value is written as it is, braces and all, and a placeholder without a fact is left out.
    static func fill(_ template: String, facts: [String: String], words: [String: String]) -> String {
        var text = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            text += rest[..<open]
            if let value = facts[String(rest[rest.index(after: open)..<close])] { text += words[value] ?? value }
            rest = rest[rest.index(after: close)...]
        }
        return text + rest
    }

    /// One message from the lines of several notices.
    public static func message(lines: [String], style: MessageStyle, language: String) -> Message {
        let language = languages.contains(language) ? language : "zh"
        let subjects = subjects[language]!
        let subject =
            lines.count == 1
            ? subjects.one.replacingOccurrences(of: "{first}", with: String(lines[0].prefix(60)))
            : subjects.many.replacingOccurrences(of: "{count}", with: String(lines.count))
        switch style {
        case .short:
            // SMS: one line each, joined; gateways split long texts themselves.
            return Message(subject: subject, text: lines.joined(separator: " "))
        case .long, .structured:
            return Message(subject: subject, text: lines.joined(separator: "\n"))
        }
    }
}

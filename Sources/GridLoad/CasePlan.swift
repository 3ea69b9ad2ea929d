import GridJSON

/// How far the load generator, playing the handlers, drives one case: the actions in order and
/// the state the case must be in afterwards. The mix of plans follows a working district: most
/// cases are closed, some are returned or reworked on the way, the rest are caught at every stage.
public enum CasePlan: String, Sendable, CaseIterable {
    case dispatched, acknowledged
    case inProgress = "in-progress"
    case suspended, handled, closed
    /// Returned as wrongly dispatched, then closed by the next assignee.
    case returnedThenClosed = "returned-then-closed"
    /// Verification fails once (rework), then passes.
    case reworkedThenClosed = "reworked-then-closed"

    public var actions: [String] {
        let toClosed = ["acknowledge", "start", "handle", "verify-pass", "close"]
        switch self {
        case .dispatched: return []
        case .acknowledged: return ["acknowledge"]
        case .inProgress: return ["acknowledge", "start"]
        case .suspended: return ["acknowledge", "suspend"]
        case .handled: return ["acknowledge", "start", "handle"]
        case .closed: return toClosed
        case .returnedThenClosed: return ["return"] + toClosed
        case .reworkedThenClosed: return ["acknowledge", "start", "handle", "verify-fail", "handle", "verify-pass", "close"]
        }
    }

    /// The case's state once every action is done.
    public var finalState: String {
        switch self {
        case .returnedThenClosed, .reworkedThenClosed: return "closed"
        default: return actions.isEmpty ? "dispatched" : Self.stateAfter[actions.last!]!
        }
    }

    static let stateAfter = [
        "acknowledge": "acknowledged", "start": "in-progress", "suspend": "suspended", "handle": "handled",
        "verify-pass": "verified", "verify-fail": "in-progress", "close": "closed", "return": "dispatched",
    ]

    /// Shares of the mix (they sum to 1).
    public static let shares: [(CasePlan, Double)] = [
        (.closed, 0.50), (.returnedThenClosed, 0.05), (.reworkedThenClosed, 0.05), (.handled, 0.08),
        (.inProgress, 0.07), (.suspended, 0.03), (.acknowledged, 0.10), (.dispatched, 0.12),
    ]

    /// The body of an action: who acts, and what the action requires.
    static func body(for action: String, by member: String) -> JSONValue {
        var body: [String: JSONValue] = ["by": .string(member)]
        switch action {
        case "handle": body["note"] = "done on site (load generator)"
        case "return": body["reason"] = "not my grid's work (load generator)"
        case "verify-fail": body["note"] = "not done properly; again"
        default: break
        }
        return .object(body)
    }
}

import GridSchema

/// Where a case stands in the dispatcher (docs/dispatcher.md): the source of truth that the
/// intake's and the statistics' views follow through the events it publishes.
public enum CaseState: String, Sendable, Hashable, CaseIterable, Codable {
    case reported, registered, rejected, merged, dispatched, acknowledged
    case inProgress = "in-progress"
    case suspended, handled, verified, closed
}

/// What someone (or a timer) does to a case.
public enum CaseAction: String, Sendable, Hashable, CaseIterable, Codable {
    case register, reject, merge, dispatch, acknowledge, start, handle
    /// The assignee says it is not theirs: counted as an inaccurate dispatch, and dispatched again.
    case returnAsWronglyDispatched = "return"
    case extend, suspend, resume
    case verifyPass = "verify-pass"
    /// Verification failed: back to work (rework).
    case verifyFail = "verify-fail"
    case close, reopen
    /// A volunteer takes an open micro-wish task (first claim wins).
    case claim
    /// An operator gives a report held for triage (no grid) its grid: registered, then dispatched.
    case place
}

/// A legal step: the state it leads to and the event that announces it.
public struct Transition: Sendable, Hashable {
    public let from: CaseState
    public let action: CaseAction
    public let to: CaseState
    public let event: EventType
}

/// An action the current state does not allow, with the actions it does (the 409 answer).
public struct IllegalAction: Error, Sendable, Hashable, CustomStringConvertible {
    public let state: CaseState
    public let action: CaseAction
    public let allowed: [CaseAction]
    public var description: String {
        "'\(action.rawValue)' is not allowed when the case is \(state.rawValue); allowed: \(allowed.map(\.rawValue).joined(separator: ", "))"
    }
}

/// The lifecycle as a table: every legal transition, nothing else.
public enum Lifecycle {
    public static let transitions: [Transition] = [
        .init(from: .reported, action: .register, to: .registered, event: .incidentRegistered),
        .init(from: .reported, action: .reject, to: .rejected, event: .incidentRejected),
        .init(from: .reported, action: .merge, to: .merged, event: .incidentMerged),
        .init(from: .reported, action: .place, to: .registered, event: .incidentRegistered),
        .init(from: .registered, action: .dispatch, to: .dispatched, event: .incidentDispatched),
        .init(from: .registered, action: .merge, to: .merged, event: .incidentMerged),
        .init(from: .registered, action: .claim, to: .acknowledged, event: .incidentDispatched),  // a micro-wish: claiming is taking it on
        .init(from: .dispatched, action: .acknowledge, to: .acknowledged, event: .incidentAcknowledged),
        .init(from: .dispatched, action: .returnAsWronglyDispatched, to: .registered, event: .incidentReturned),
        .init(from: .dispatched, action: .dispatch, to: .dispatched, event: .incidentDispatched),  // re-dispatch (escalation, reassignment)
        .init(from: .acknowledged, action: .start, to: .inProgress, event: .incidentStarted),
        .init(from: .acknowledged, action: .returnAsWronglyDispatched, to: .registered, event: .incidentReturned),
        .init(from: .acknowledged, action: .extend, to: .acknowledged, event: .incidentExtended),
        .init(from: .acknowledged, action: .suspend, to: .suspended, event: .incidentSuspended),
        .init(from: .inProgress, action: .handle, to: .handled, event: .incidentHandled),
        .init(from: .inProgress, action: .extend, to: .inProgress, event: .incidentExtended),
        .init(from: .inProgress, action: .suspend, to: .suspended, event: .incidentSuspended),
        .init(from: .suspended, action: .resume, to: .inProgress, event: .incidentResumed),
        .init(from: .handled, action: .verifyPass, to: .verified, event: .incidentVerified),
        .init(from: .handled, action: .verifyFail, to: .inProgress, event: .incidentVerified),
        .init(from: .verified, action: .close, to: .closed, event: .incidentClosed),
        .init(from: .closed, action: .reopen, to: .dispatched, event: .incidentReopened),
    ]

    private static let table: [CaseState: [CaseAction: Transition]] = Dictionary(grouping: transitions, by: \.from)
        .mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0.action, $0) }) }

    /// The actions `state` allows, in the table's order.
    public static func allowed(in state: CaseState) -> [CaseAction] {
        transitions.filter { $0.from == state }.map(\.action)
    }

    public static func apply(_ action: CaseAction, to state: CaseState) throws(IllegalAction) -> Transition {
        guard let transition = table[state]?[action] else { throw IllegalAction(state: state, action: action, allowed: allowed(in: state)) }
        return transition
    }

    /// States no action leaves (a closed case can still be reopened, within the configured days).
    public static var terminal: [CaseState] { CaseState.allCases.filter { allowed(in: $0).isEmpty } }
}

import GridDispatch
import GridSchema
import Testing

@Suite struct LifecycleTests {
    /// Every (state, action) pair: the legal ones lead where the table says and publish its event;
    /// every other one is refused with the list of what is allowed.
    static let legal: [CaseState: [CaseAction: (CaseState, EventType)]] = [
        .reported: [
            .register: (.registered, .incidentRegistered), .reject: (.rejected, .incidentRejected), .merge: (.merged, .incidentMerged),
            .place: (.registered, .incidentRegistered),
        ],
        .registered: [
            .dispatch: (.dispatched, .incidentDispatched), .merge: (.merged, .incidentMerged), .claim: (.acknowledged, .incidentDispatched),
        ],
        .dispatched: [
            .acknowledge: (.acknowledged, .incidentAcknowledged), .returnAsWronglyDispatched: (.registered, .incidentReturned),
            .dispatch: (.dispatched, .incidentDispatched),
        ],
        .acknowledged: [
            .start: (.inProgress, .incidentStarted), .returnAsWronglyDispatched: (.registered, .incidentReturned),
            .extend: (.acknowledged, .incidentExtended), .suspend: (.suspended, .incidentSuspended),
        ],
        .inProgress: [.handle: (.handled, .incidentHandled), .extend: (.inProgress, .incidentExtended), .suspend: (.suspended, .incidentSuspended)],
        .suspended: [.resume: (.inProgress, .incidentResumed)],
        .handled: [.verifyPass: (.verified, .incidentVerified), .verifyFail: (.inProgress, .incidentVerified)],
        .verified: [.close: (.closed, .incidentClosed)],
        .closed: [.reopen: (.dispatched, .incidentReopened)],
        .rejected: [:],
        .merged: [:],
    ]

    @Test(arguments: CaseState.allCases)
    func everyActionInState(state: CaseState) {
        let expected = Self.legal[state] ?? [:]
        for action in CaseAction.allCases {
            do {
                let transition = try Lifecycle.apply(action, to: state)
                guard let (to, event) = expected[action] else {
                    Issue.record("\(action) was allowed in \(state)")
                    continue
                }
                #expect(transition.to == to && transition.event == event, "\(state) + \(action)")
            } catch {
                #expect(expected[action] == nil, "\(action) was refused in \(state)")
                #expect(Set(error.allowed) == Set(expected.keys))
                #expect(error.description.contains(action.rawValue) && error.description.contains(state.rawValue))
            }
        }
    }

    @Test func onlyRejectedAndMergedAreFinal() {
        #expect(Set(Lifecycle.terminal) == [.rejected, .merged])
    }
}

import CoreMetrics
import Foundation
import GridBusClient
import GridMetrics

/// What grid-dispatcher counts for its `/metrics`; what its events say (registrations, escalations,
/// closures) grid-stats counts from the bus.
struct DispatcherMetrics: Sendable {
    static let help = [
        "gridbus_dispatcher_actions_total":
            "Handlers' and operators' actions on cases, by action and outcome: done, illegal (not allowed in the case's state), invalid, not-found.",
        "gridbus_dispatcher_timers_due": "Case timers (acknowledgement and handling limits, reminders) due now and not yet fired.",
    ]

    enum Outcome: String, CaseIterable {
        case done, illegal, invalid
        case notFound = "not-found"
    }

    /// Every action and outcome, created at start: a series that comes and goes reads as a gap.
    private let actions: [String: Counter]

    init(factory: DescribedMetricsFactory) {
        factory.describe(Self.help)
        var actions: [String: Counter] = [:]
        for action in CaseAction.allCases {
            for outcome in Outcome.allCases {
                actions[Self.key(action, outcome)] = Counter(
                    label: "gridbus_dispatcher_actions_total",
                    dimensions: [("action", action.rawValue), ("outcome", outcome.rawValue)],
                    factory: factory
                )
            }
        }
        self.actions = actions
    }

    private static func key(_ action: CaseAction, _ outcome: Outcome) -> String { action.rawValue + " " + outcome.rawValue }

    func count(_ action: CaseAction, _ outcome: ActOutcome) {
        let kind: Outcome =
            switch outcome {
            case .done: .done
            case .illegal: .illegal
            case .invalid: .invalid
            case .notFound: .notFound
            }
        actions[Self.key(action, kind)]?.increment()
    }
}

extension Dispatcher {
    /// Read at scrape time: the timers that are due and not fired (a sweep that falls behind).
    public func metricsText() async throws -> String {
        let now = self.now()
        let due = try await runtime.read { try DispatcherStore.dueCount(at: now, on: $0) }
        var text = PrometheusText()
        text.family("gridbus_dispatcher_timers_due", "gauge", DispatcherMetrics.help["gridbus_dispatcher_timers_due"]!, [([], Double(due))])
        return text.text
    }
}

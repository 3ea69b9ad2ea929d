import Foundation

/// gridctl's environment, named by one scheme with the programs' keys (docs/operations.md,
/// "Environment"): `GRIDBUS_BUS_…` for the bus (`bus.ingress` is `GRIDBUS_BUS_INGRESS` everywhere),
/// `GRIDBUS_<WORKER>_URL` for a worker's HTTP address and `GRIDBUS_<WORKER>_KEY` for the API key
/// gridctl presents to it.
enum Environment {
    static func value(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

    /// Variables of earlier versions, with their names now: one still set is an error, not ignored.
    static let renamed = ["GRIDBUS_HANDLER_KEY": "GRIDBUS_DISPATCHER_KEY", "GRIDBUS_OPERATOR_KEY": "GRIDBUS_DISPATCHER_OPERATOR_KEY"]

    /// The first renamed variable still set, as the message that says what it is called now.
    static func renamedVariableInUse() -> String? {
        renamed.sorted { $0.key < $1.key }.first { value($0.key) != nil }.map { "\($0.key) was renamed \($0.value)" }
    }
}

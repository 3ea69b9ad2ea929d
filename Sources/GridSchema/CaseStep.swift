/// The dispatcher's numbering of a case's lifecycle events: their ids are `<incident>-1`,
/// `<incident>-2`, … with no gap (docs/events.md, "Order"). The bus may journal them out of that
/// order, so whoever folds a case's events applies them by this number.
public enum CaseStep {
    /// The id of a case's `step`th event.
    public static func eventID(incident: String, step: Int) -> String { "\(incident)-\(step)" }

    /// The step an event id stands for, or nil when it is not one of `incident`'s numbered events.
    public static func number(ofEventID id: String, incident: String) -> Int? {
        guard id.hasPrefix(incident + "-") else { return nil }
        return Int(id.dropFirst(incident.count + 1))
    }
}

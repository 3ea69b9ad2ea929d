import Foundation
import GridJSON
import GridSchema

/// A case record's stored form: a JSON object named as its properties (the form `JSONEncoder` wrote
/// before, so stores written by earlier versions read the same), by hand because the fold writes one
/// per changed case per batch. A property missing from a stored record takes its default.
extension CaseRecord {
    var json: [UInt8] {
        JSONObjectWriter.object { writer in
            writer.string("id", id)
            writer.date("reportedAt", reportedAt)
            writer.string("grid", grid)
            writer.string("category", category)
            writer.string("priority", priority?.rawValue)
            writer.string("state", state)
            writer.date("registeredAt", registeredAt)
            writer.date("deadline", deadline)
            writer.date("firstDispatchAt", firstDispatchAt)
            writer.strings("firstAssignees", firstAssignees)
            writer.int("returns", returns)
            writer.date("firstAcknowledgedAt", firstAcknowledgedAt)
            writer.date("firstHandledAt", firstHandledAt)
            writer.bool("handledOnTime", handledOnTime)
            writer.bool("closedOnTime", closedOnTime)
            writer.bool("reworked", reworked)
            writer.int("escalations", escalations)
            writer.bool("overdue", overdue)
            writer.bool("reopened", reopened)
            writer.strings("applied", applied)
            writer.int("step", step)
            writer.objects("held", held) { event, writer in event.write(to: &writer) }
        }
    }

    init(json bytes: [UInt8]) throws {
        var record = CaseRecord(id: "")
        var id: String?
        try JSONReader.read(bytes) { reader in
            try reader.readObject { name, reader in
                switch name {
                case "id": id = try reader.readString()
                case "reportedAt": record.reportedAt = try reader.readOptionalDate()
                case "grid": record.grid = try reader.readOptionalString()
                case "category": record.category = try reader.readOptionalString()
                case "priority": record.priority = try reader.readOptional(Priority.self)
                case "state": record.state = try reader.readString()
                case "registeredAt": record.registeredAt = try reader.readOptionalDate()
                case "deadline": record.deadline = try reader.readOptionalDate()
                case "firstDispatchAt": record.firstDispatchAt = try reader.readOptionalDate()
                case "firstAssignees": record.firstAssignees = try reader.readOptionalStrings() ?? []
                case "returns": record.returns = try reader.readInt()
                case "firstAcknowledgedAt": record.firstAcknowledgedAt = try reader.readOptionalDate()
                case "firstHandledAt": record.firstHandledAt = try reader.readOptionalDate()
                case "handledOnTime": record.handledOnTime = try reader.readOptionalBool()
                case "closedOnTime": record.closedOnTime = try reader.readOptionalBool()
                case "reworked": record.reworked = try reader.readBool()
                case "escalations": record.escalations = try reader.readInt()
                case "overdue": record.overdue = try reader.readBool()
                case "reopened": record.reopened = try reader.readBool()
                case "applied": record.applied = try reader.readOptionalStrings() ?? []
                case "step": record.step = try reader.readOptionalInt()
                case "held":
                    if reader.readNull() { break }
                    var held: [StatsEvent] = []
                    try reader.readArray { held.append(try StatsEvent.read(&$0)) }
                    record.held = held
                default: try reader.skipValue()
                }
            }
        }
        guard let id else { throw JSONReadError(offset: 0, "a case record needs 'id'") }
        record.id = id
        self = record
    }
}

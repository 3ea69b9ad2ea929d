import GridConfiguration
import GridSchema

/// One category of the catalogue: digital urban management's coding (`E-01-02` exposed rubbish)
/// extended with grid-governance topics.
public struct Category: Sendable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Urban-management events (事件) and components (部件); grid-governance extensions.
        case event, component, governance
    }

    /// How a time limit is counted.
    public enum Clock: String, Sendable, Hashable, CaseIterable {
        case working, natural
    }

    public var code: String
    public var kind: Kind
    /// The major class, also Open311's `group`.
    public var group: String
    public var nameZh: String
    public var nameEn: String
    public var keywords: [String]
    public var filingCriteria: String
    public var closingCriteria: String
    /// Seconds to close, normal and urgent, on `clock`.
    public var normalLimit: Double
    public var urgentLimit: Double
    public var clock: Clock
    public var responsibleUnit: String
    public var priority: Priority
    /// Open311 `service_code` (the code itself unless the catalogue says otherwise).
    public var serviceCode: String
    /// Part-time members (couriers and the like) may be assigned.
    public var partTimeAllowed: Bool
    /// A citizen micro-wish: published as an open task for volunteers.
    public var volunteer: Bool

    public var id: String { code }

    public init(
        code: String,
        kind: Kind,
        group: String,
        nameZh: String,
        nameEn: String,
        keywords: [String],
        filingCriteria: String,
        closingCriteria: String,
        normalLimit: Double,
        urgentLimit: Double,
        clock: Clock,
        responsibleUnit: String,
        priority: Priority,
        serviceCode: String,
        partTimeAllowed: Bool,
        volunteer: Bool
    ) {
        self.code = code
        self.kind = kind
        self.group = group
        self.nameZh = nameZh
        self.nameEn = nameEn
        self.keywords = keywords
        self.filingCriteria = filingCriteria
        self.closingCriteria = closingCriteria
        self.normalLimit = normalLimit
        self.urgentLimit = urgentLimit
        self.clock = clock
        self.responsibleUnit = responsibleUnit
        self.priority = priority
        self.serviceCode = serviceCode
        self.partTimeAllowed = partTimeAllowed
        self.volunteer = volunteer
    }
}

/// The category catalogue, from `categories.csv`.
public enum CatalogueFile {
    public static let columns = [
        "code", "kind", "group", "name_zh", "name_en", "keywords", "filing_criteria", "closing_criteria", "normal_limit", "urgent_limit",
        "clock", "responsible_unit", "priority",
    ]
    public static let optionalColumns = ["service_code", "part_time", "volunteer"]

    public static func load(_ file: String) throws(DefinitionError) -> [Category] {
        let table = try CSVTable.load(file, required: columns, optional: optionalColumns)
        var categories: [Category] = []
        var codes: [String: Int] = [:]
        var serviceCodes: [String: Int] = [:]
        for (row, fields) in table.rows {
            func field(_ name: String) -> String { fields[name] ?? "" }
            func error(_ name: String, _ reason: String) -> DefinitionError { table.error(row: row, name, reason) }
            let code = field("code")
            guard isCode(code) else { throw error("code", "'\(code)' is not a code like E-01-02 (letter, major class, minor class)") }
            if let first = codes[code] { throw error("code", "'\(code)' is also on row \(first)") }
            codes[code] = row
            guard let kind = Category.Kind(rawValue: field("kind")) else { throw error("kind", "must be event, component or governance") }
            guard let clock = Category.Clock(rawValue: field("clock")) else { throw error("clock", "must be working or natural") }
            guard let priority = Priority(rawValue: field("priority")) else { throw error("priority", "must be normal, urgent or emergency") }
            guard let normal = GridConfigReader.parseDuration(field("normal_limit")), normal > 0 else {
                throw error("normal_limit", "'\(field("normal_limit"))' is not a positive duration (e.g. 4h, 2d)")
            }
            guard let urgent = GridConfigReader.parseDuration(field("urgent_limit")), urgent > 0, urgent <= normal else {
                throw error("urgent_limit", "'\(field("urgent_limit"))' must be a positive duration no longer than normal_limit")
            }
            for name in ["group", "name_zh", "name_en", "responsible_unit"] where field(name).isEmpty { throw error(name, "is required") }
            let serviceCode = field("service_code").isEmpty ? code : field("service_code")
            if let first = serviceCodes[serviceCode] { throw error("service_code", "'\(serviceCode)' is also on row \(first)") }
            serviceCodes[serviceCode] = row
            func flag(_ name: String) throws(DefinitionError) -> Bool {
                switch field(name).lowercased() {
                case "", "no", "false", "0": return false
                case "yes", "true", "1": return true
                default: throw error(name, "must be yes or no")
                }
            }
            categories.append(
                Category(
                    code: code,
                    kind: kind,
                    group: field("group"),
                    nameZh: field("name_zh"),
                    nameEn: field("name_en"),
                    keywords: RosterFile.list(field("keywords")),
                    filingCriteria: field("filing_criteria"),
                    closingCriteria: field("closing_criteria"),
                    normalLimit: normal,
                    urgentLimit: urgent,
                    clock: clock,
                    responsibleUnit: field("responsible_unit"),
                    priority: priority,
                    serviceCode: serviceCode,
                    partTimeAllowed: try flag("part_time"),
                    volunteer: try flag("volunteer")
                )
            )
        }
        return categories
    }

    static func isCode(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].count == 1 && parts[0].allSatisfy(\.isUppercase)
            && parts[1...].allSatisfy { $0.count == 2 && $0.allSatisfy(\.isNumber) }
    }
}

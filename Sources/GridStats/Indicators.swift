import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridJSON
import GridSchema
import GridStore

/// One row of indicators: sums, and the rates and times computed from them (nil when there is
/// nothing to divide by). Definitions: docs/stats.md#indicators.
public struct IndicatorRow: Sendable, Encodable, Equatable {
    public var key: String
    public var reports: Int64
    public var registered: Int64
    public var rejected: Int64
    public var merged: Int64
    public var dispatched: Int64
    public var timelyDispatchRate: Double?
    public var accurateDispatchRate: Double?
    public var acknowledged: Int64
    public var acknowledgeMeanSeconds: Double?
    public var acknowledgeP90Seconds: Double?
    public var handled: Int64
    public var handleMeanSeconds: Double?
    public var handleP90Seconds: Double?
    public var onTimeHandlingRate: Double?
    public var closed: Int64
    public var closureRate: Double?
    public var onTimeClosureRate: Double?
    public var reworkRate: Double?
    public var escalations: Int64
    public var becameOverdue: Int64
    public var reopened: Int64
    /// Open now and past their deadline (whatever the period).
    public var overdueOpen: Int64
    /// Only where notifications can be placed: by district, town or day.
    public var notificationsSent: Int64?
    public var notificationsFailed: Int64?
    public var notificationSuccessRate: Double?

    nonisolated(unsafe) static let rates: [String: (value: KeyPath<IndicatorRow, Double?>, sample: KeyPath<IndicatorRow, Int64>)] = [
        "timelyDispatchRate": (\.timelyDispatchRate, \.dispatched),
        "accurateDispatchRate": (\.accurateDispatchRate, \.dispatched),
        "acknowledgeMeanSeconds": (\.acknowledgeMeanSeconds, \.acknowledged),
        "acknowledgeP90Seconds": (\.acknowledgeP90Seconds, \.acknowledged),
        "handleMeanSeconds": (\.handleMeanSeconds, \.handled),
        "handleP90Seconds": (\.handleP90Seconds, \.handled),
        "onTimeHandlingRate": (\.onTimeHandlingRate, \.handled),
        "closureRate": (\.closureRate, \.registered),
        "onTimeClosureRate": (\.onTimeClosureRate, \.closed),
        "reworkRate": (\.reworkRate, \.handled),
    ]
}

/// What an indicator query asks: a period of reporting days, how to group, and filters.
public struct IndicatorQuery: Sendable, Equatable {
    public enum Dimension: String, Sendable, CaseIterable {
        case district, town, community, grid, category, member, day
    }

    public var from: String
    public var to: String
    public var by: Dimension = .district
    public var town: String?
    public var community: String?
    public var grid: String?
    /// A category code or prefix.
    public var category: String?

    public init(from: String, to: String, by: Dimension = .district) {
        self.from = from
        self.to = to
        self.by = by
    }
}

extension Statistics {
    /// `yyyy-mm-dd`, a real date.
    static func isDay(_ text: String) -> Bool {
        guard text.count == 10, let date = ISO8601DateFormatter.day.date(from: text) else { return false }
        return ISO8601DateFormatter.day.string(from: date) == text
    }

    public func indicators(_ query: IndicatorQuery) async throws -> Result<[IndicatorRow], FieldError> {
        guard Self.isDay(query.from) else { return .failure(FieldError("from", "'\(query.from)' is not a day (yyyy-mm-dd)")) }
        guard Self.isDay(query.to), query.to >= query.from else {
            return .failure(FieldError("to", "'\(query.to)' is not a day (yyyy-mm-dd) on or after from"))
        }
        if query.by == .member && (query.grid != nil || query.community != nil || query.town != nil || query.category != nil) {
            return .failure(FieldError("by", "member totals cannot be filtered by place or category"))
        }
        let now = self.now().millisecondsSince1970
        return .success(try await runtime.read { [self] connection in try rows(query, now: now, connection: connection) })
    }

    private func rows(_ query: IndicatorQuery, now: Int64, connection: any StoreConnection) throws -> [IndicatorRow] {
        let rows = try StatsStore.sums(query, on: connection)
        let histograms = query.by == .member ? [:] : try StatsStore.durationHistograms(query, on: connection)
        let overdue = try overdueOpen(query, now: now, connection: connection)
        let notices = [.district, .town, .day].contains(query.by) ? try StatsStore.noticeCounts(query, on: connection) : nil
        return rows.keys.sorted().map { key in
            let values = rows[key]!
            func value(_ measure: Measure) -> Int64 { values[measure.rawValue] }
            func ratio(_ numerator: Int64, _ denominator: Int64) -> Double? { denominator > 0 ? Double(numerator) / Double(denominator) : nil }
            var row = IndicatorRow(
                key: key,
                reports: value(.reports),
                registered: value(.registered),
                rejected: value(.rejected),
                merged: value(.merged),
                dispatched: value(.dispatched),
                timelyDispatchRate: ratio(value(.timelyDispatched), value(.dispatched)),
                accurateDispatchRate: ratio(value(.dispatched) - value(.returned), value(.dispatched)),
                acknowledged: value(.acknowledged),
                acknowledgeMeanSeconds: ratio(value(.acknowledgeSeconds), value(.acknowledged)),
                acknowledgeP90Seconds: histograms[key]?["acknowledge"].flatMap { DurationBuckets.quantile(0.9, of: $0) },
                handled: value(.handled),
                handleMeanSeconds: ratio(value(.handleSeconds), value(.handled)),
                handleP90Seconds: histograms[key]?["handle"].flatMap { DurationBuckets.quantile(0.9, of: $0) },
                onTimeHandlingRate: ratio(value(.handledOnTime), value(.handled)),
                closed: value(.closed),
                closureRate: ratio(value(.closed), value(.registered)),
                onTimeClosureRate: ratio(value(.closedOnTime), value(.closed)),
                reworkRate: ratio(value(.reworked), value(.handled)),
                escalations: value(.escalations),
                becameOverdue: value(.overdue),
                reopened: value(.reopened),
                overdueOpen: overdue[key] ?? 0
            )
            if let notices {
                let counts = notices[key] ?? (0, 0)
                row.notificationsSent = counts.sent
                row.notificationsFailed = counts.failed
                row.notificationSuccessRate = ratio(counts.sent, counts.sent + counts.failed)
            }
            return row
        }
    }

    /// Open cases past their deadline now, by the query's grouping (not by period: it is a state).
    private func overdueOpen(_ query: IndicatorQuery, now: Int64, connection: any StoreConnection) throws -> [String: Int64] {
        guard query.by != .day else { return [:] }
        var counts: [String: Int64] = [:]
        for (grid, category, body) in try StatsStore.openCasesPastDeadline(now, on: connection) {
            let place = district.gridsByID[grid]
            if let town = query.town, place?.town != town { continue }
            if let community = query.community, place?.community != community { continue }
            if let wanted = query.grid, grid != wanted { continue }
            if let prefix = query.category, !category.hasPrefix(prefix) { continue }
            let key: String
            switch query.by {
            case .district: key = ""
            case .town: key = place?.town ?? ""
            case .community: key = place?.community ?? ""
            case .grid: key = grid
            case .category: key = category
            case .member:
                let record = try? CaseRecord(json: body)
                for member in record?.firstAssignees ?? [] { counts[member, default: 0] += 1 }
                continue
            case .day: continue
            }
            counts[key, default: 0] += 1
        }
        return counts
    }

    /// Places ranked by an indicator, leaving out those whose sample (the indicator's denominator)
    /// is below the minimum.
    public func ranking(
        _ query: IndicatorQuery,
        indicator: String,
        minimumSample: Int?,
        descending: Bool
    ) async throws
        -> Result<[RankedRow], FieldError>
    {
        guard let rate = IndicatorRow.rates[indicator] else {
            return .failure(
                FieldError(
                    "indicator",
                    "'\(indicator)' is not a rate or time (\(IndicatorRow.rates.keys.sorted().joined(separator: ", ")))"
                )
            )
        }
        let minimum = minimumSample ?? settings.minimumSample
        switch try await indicators(query) {
        case .failure(let problem): return .failure(problem)
        case .success(let rows):
            let ranked = rows.compactMap { row -> RankedRow? in
                guard row[keyPath: rate.sample] >= minimum, let value = row[keyPath: rate.value] else { return nil }
                return RankedRow(rank: 0, key: row.key, value: value, sample: row[keyPath: rate.sample])
            }
            .sorted { descending ? ($0.value, $1.key) > ($1.value, $0.key) : ($0.value, $0.key) < ($1.value, $1.key) }
            return .success(
                ranked.enumerated().map { index, row in
                    var row = row
                    row.rank = index + 1
                    return row
                }
            )
        }
    }
}

public struct RankedRow: Sendable, Encodable, Equatable {
    public var rank: Int
    public var key: String
    public var value: Double
    public var sample: Int64
}

extension ISO8601DateFormatter {
    /// `yyyy-mm-dd` in UTC, for checking days.
    nonisolated(unsafe) static let day: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter
    }()
}

import Foundation
import GridDistrict

/// Counts time limits: natural time runs on; working time runs only inside working periods
/// (by default Monday–Friday 08:30–12:00 and 13:30–17:30, China's common office hours) and not
/// on holidays. Pure: the caller passes the instant, so tests drive it without sleeping.
public struct WorkCalendar: Sendable {
    /// Working periods of a day, minutes after midnight, sorted, not overlapping.
    public var periods: [(start: Int, end: Int)]
    /// ISO weekdays (Monday = 1) that are working days.
    public var workingDays: Set<Int>
    /// Days off on working days, and working days on weekends (make-up days), as `yyyy-MM-dd`.
    public var holidays: Set<String>
    public var makeUpDays: Set<String>
    public var timeZone: TimeZone

    public init(
        periods: [(start: Int, end: Int)] = [(8 * 60 + 30, 12 * 60), (13 * 60 + 30, 17 * 60 + 30)],
        workingDays: Set<Int> = [1, 2, 3, 4, 5],
        holidays: Set<String> = [],
        makeUpDays: Set<String> = [],
        timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!
    ) {
        self.periods = periods.sorted { $0.start < $1.start }
        self.workingDays = workingDays
        self.holidays = holidays
        self.makeUpDays = makeUpDays
        self.timeZone = timeZone
    }

    /// When a limit of `seconds` that starts at `start` runs out.
    public func deadline(from start: Date, limit seconds: Double, clock: Category.Clock) -> Date {
        guard clock == .working else { return start.addingTimeInterval(seconds) }
        var remaining = seconds
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: start)
        // At most ten years of days: a calendar without working time must not loop forever.
        for _ in 0..<3660 {
            if isWorkingDay(day, calendar) {
                for period in periods {
                    let opens = day.addingTimeInterval(Double(period.start * 60))
                    let closes = day.addingTimeInterval(Double(period.end * 60))
                    let from = max(opens, start)
                    guard from < closes else { continue }
                    let available = closes.timeIntervalSince(from)
                    if remaining <= available { return from.addingTimeInterval(remaining) }
                    remaining -= available
                }
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        return start.addingTimeInterval(seconds)
    }

    func isWorkingDay(_ day: Date, _ calendar: Calendar) -> Bool {
        let components = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
        let key = String(format: "%04d-%02d-%02d", components.year!, components.month!, components.day!)
        if makeUpDays.contains(key) { return true }
        if holidays.contains(key) { return false }
        let isoWeekday = (components.weekday! + 5) % 7 + 1  // Calendar: Sunday = 1
        return workingDays.contains(isoWeekday)
    }
}

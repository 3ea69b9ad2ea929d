import Foundation
import GridDispatch
import GridDistrict
import Testing

@Suite struct WorkCalendarTests {
    let calendar = WorkCalendar()

    /// `2026-11-27 16:00` in China (Friday).
    func time(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    @Test(arguments: [
        // A limit that spans a night: 4 working hours from Friday 16:00 = 1.5 h Friday + 2.5 h Monday.
        ("2026-11-27 16:00", 4.0, "2026-11-30 11:00"),
        // Across the lunch break.
        ("2026-11-25 11:00", 2.0, "2026-11-25 14:30"),
        // Reported at night: the clock starts at 08:30.
        ("2026-11-25 22:00", 1.0, "2026-11-26 09:30"),
        // Reported on Saturday: nothing counts before Monday 08:30.
        ("2026-11-28 10:00", 0.5, "2026-11-30 09:00"),
        // Exactly a working day (3.5 h + 4 h) from the opening.
        ("2026-11-26 08:30", 7.5, "2026-11-26 17:30"),
        // From Thursday noon: 4 h Thursday afternoon, 7.5 h Friday, 2.5 h on Monday after the weekend.
        ("2026-11-26 12:00", 14.0, "2026-11-30 11:00"),
    ])
    func workingHours(start: String, hours: Double, deadline: String) {
        #expect(calendar.deadline(from: time(start), limit: hours * 3600, clock: .working) == time(deadline))
    }

    @Test func naturalTimeRunsOn() {
        #expect(calendar.deadline(from: time("2026-11-28 23:00"), limit: 2 * 3600, clock: .natural) == time("2026-11-29 01:00"))
    }

    @Test func holidaysAndMakeUpDays() {
        let withHoliday = WorkCalendar(holidays: ["2026-11-30"], makeUpDays: ["2026-11-29"])
        // Sunday the 29th is worked, Monday the 30th is off.
        #expect(withHoliday.deadline(from: time("2026-11-27 17:00"), limit: 3600, clock: .working) == time("2026-11-29 09:00"))
        #expect(withHoliday.deadline(from: time("2026-11-29 17:00"), limit: 3600, clock: .working) == time("2026-12-01 09:00"))
    }
}

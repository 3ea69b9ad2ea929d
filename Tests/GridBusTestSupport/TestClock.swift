import Foundation
import Synchronization

/// A clock a test moves by hand: timing-dependent logic takes `{ clock.now }` instead of `Date.init`.
public final class TestClock: Sendable {
    private let value: Mutex<Date>

    public init(_ start: Date) { value = Mutex(start) }

    public var now: Date { value.withLock { $0 } }

    public func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

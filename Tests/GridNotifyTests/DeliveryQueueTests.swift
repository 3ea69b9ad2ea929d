import Testing

@testable import GridNotify

/// The room for messages in flight, shared by the subscriber's claims and the delivery loop's.
@Suite struct DeliveryQueueTests {
    func batch(_ id: String) -> Notifier.Batch { Notifier.Batch(messageId: id, rows: [], attempt: 1) }

    @Test func aClaimTakesAllTheRoomAndGivesBackWhatItDidNotUse() {
        let queue = DeliveryQueue(limit: 4)
        #expect(queue.reserve() == 4)
        #expect(queue.reserve() == 0)  // a second claimer meanwhile finds none
        queue.settle(reserved: 4, claimed: 1, noticesDue: true)
        #expect(queue.reserve() == 3)
        queue.settle(reserved: 3, claimed: 0, noticesDue: false)
        queue.finished()
        #expect(queue.reserve() == 4)
    }

    /// A claim that filled its room after planning may have left due messages in the store: the
    /// next room made wakes a claim, once. One that found less than its room left nothing behind.
    @Test func aClaimCutShortByTheRoomIsRepeatedWhenRoomIsMade() {
        let queue = DeliveryQueue(limit: 2)
        queue.settle(reserved: queue.reserve(), claimed: 2, noticesDue: true)
        #expect(queue.takeClaimAgain() == false)
        queue.finished()
        #expect(queue.takeClaimAgain() == true)
        queue.finished()
        #expect(queue.takeClaimAgain() == false)

        // No room at all, with notices planned: the room another claim gives back wakes a claim.
        let busy = DeliveryQueue(limit: 2)
        let other = busy.reserve()
        busy.settle(reserved: busy.reserve(), claimed: 0, noticesDue: true)
        busy.settle(reserved: other, claimed: 1, noticesDue: false)
        #expect(busy.takeClaimAgain() == true)

        // Nothing planned: an event that only updated a case leaves no claim behind.
        let quiet = DeliveryQueue(limit: 2)
        let all = quiet.reserve()
        quiet.settle(reserved: quiet.reserve(), claimed: 0, noticesDue: false)
        quiet.settle(reserved: all, claimed: 0, noticesDue: false)
        #expect(quiet.takeClaimAgain() == false)
    }

    @Test func handedMessagesAreSentInOrderAndAFallbackAsksForAClaim() async {
        let queue = DeliveryQueue(limit: 4)
        let reserved = queue.reserve()
        queue.hand([batch("m-1"), batch("m-2")])
        queue.settle(reserved: reserved, claimed: 2, noticesDue: true)
        var handed = queue.handed.makeAsyncIterator()
        #expect(await handed.next()?.messageId == "m-1")
        #expect(await handed.next()?.messageId == "m-2")
        #expect(!queue.takeClaimAgain())  // handing over asks for no claim
        queue.finished(claimAgain: true)
        #expect(queue.takeClaimAgain())
        #expect(!queue.takeClaimAgain())
        queue.claimAgain()
        #expect(queue.takeClaimAgain())
    }
}

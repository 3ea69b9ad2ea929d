import GridStore
import Logging

/// Runs `body` again for as long as it fails because the store cannot be reached (a PostgreSQL
/// server restarting or failing over), waiting longer each time up to 5 s; any other error is
/// thrown at once. The runtime's own loops (the publisher's, the subscriber's) go through here:
/// without it, a store away for a moment would stop them, or make a subscriber skip events.
func waitingForTheStore<T>(_ what: String, logger: Logger, _ body: () async throws -> T) async throws -> T {
    var delay = Duration.milliseconds(100)
    var warned = false
    while true {
        do {
            let value = try await body()
            if warned { logger.notice("the store is back", metadata: ["waiting": "\(what)"]) }
            return value
        } catch  where storeIsUnreachable(error) {
            if !warned {
                logger.warning("the store cannot be reached; waiting for it", metadata: ["waiting": "\(what)", "error": "\(error)"])
                warned = true
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
}

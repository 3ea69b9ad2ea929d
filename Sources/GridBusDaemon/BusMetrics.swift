import CoreMetrics
import GridSchema

/// Every metric gridbusd exports, created once with fixed dimensions (swift-metrics usage pattern).
/// Names follow Prometheus conventions; docs/operations.md lists them.
final class BusMetrics: Sendable {
    let received: Counter
    let acked: Counter
    let duplicates: Counter
    let nacked: [BusProtocol.Refusal: Counter]
    let fannedOut: Counter
    let replayed: Counter
    let heartbeats: Counter
    let journalEvents: Gauge
    let journalBytes: Gauge
    let journalKeysBytes: Gauge
    let headSequence: Gauge
    let tailSequence: Gauge
    let subscriptions: Gauge
    let chains: Gauge
    let laggingSubscribers: Gauge
    let lagEpisodes: Counter
    let commitBatchSize: Recorder
    let commitDuration: Timer
    let retentionRemoved: Counter
    let isLeader: Gauge
    let leaseEpoch: Gauge
    let roleChanges: Counter
    let followerBehind: Gauge

    /// Each metric's help text, by label, for `/metrics` (docs/operations.md, "Monitoring").
    static let help: [String: String] = [
        "gridbus_events_received_total": "Publish requests read at the ingress, good or bad.",
        "gridbus_events_acked_total": "Publishes answered ACK, duplicates included.",
        "gridbus_events_duplicate_total": "Publishes of a (source, id) already journaled, answered with its first sequence.",
        "gridbus_events_nacked_total": "Publishes refused, by NACK code.",
        "gridbus_events_fanned_out_total": "Events sent on the egress.",
        "gridbus_events_replayed_total": "Events sent by replay.",
        "gridbus_heartbeats_total": "Heartbeats sent on the egress.",
        "gridbus_journal_events": "Events in the journal.",
        "gridbus_journal_bytes": "Event bytes in the journal.",
        "gridbus_journal_keys_bytes": "Memory the de-duplication keys take; it doubles as the journal grows.",
        "gridbus_head_sequence": "The newest journaled sequence.",
        "gridbus_tail_sequence": "The oldest journaled sequence (0: the journal is empty).",
        "gridbus_subscriptions": "Distinct topic prefixes applied on the egress.",
        "gridbus_egress_chains": "Chains kept for subscribers with narrow prefixes (at most 256).",
        "gridbus_lagging_subscribers": "Reporting subscribers behind by more than egress.lag-threshold, or silent.",
        "gridbus_subscriber_lag_episodes_total": "Times a subscriber became lagging.",
        "gridbus_commit_batch_events": "Events per group commit of the journal.",
        "gridbus_commit_duration_seconds": "Time per group commit of the journal.",
        "gridbus_retention_removed_total": "Events removed from the journal by retention.",
        "gridbus_cluster_leader": "1 while this node writes the journal (always on SQLite), 0 on a follower or a node cut off from PostgreSQL.",
        "gridbus_cluster_epoch": "The fencing epoch of the lease this node last held.",
        "gridbus_cluster_role_changes_total": "Times this node's role changed (leader, follower, unavailable).",
        "gridbus_cluster_follower_behind_events": "On a follower, events the leader has journaled that this node has not read yet (0 on the leader).",
    ]

    init(factory: any MetricsFactory) {
        received = Counter(label: "gridbus_events_received_total", factory: factory)
        acked = Counter(label: "gridbus_events_acked_total", factory: factory)
        duplicates = Counter(label: "gridbus_events_duplicate_total", factory: factory)
        nacked = Dictionary(
            uniqueKeysWithValues: BusProtocol.Refusal.allCases.map {
                ($0, Counter(label: "gridbus_events_nacked_total", dimensions: [("reason", $0.rawValue)], factory: factory))
            }
        )
        fannedOut = Counter(label: "gridbus_events_fanned_out_total", factory: factory)
        replayed = Counter(label: "gridbus_events_replayed_total", factory: factory)
        heartbeats = Counter(label: "gridbus_heartbeats_total", factory: factory)
        journalEvents = Gauge(label: "gridbus_journal_events", factory: factory)
        journalBytes = Gauge(label: "gridbus_journal_bytes", factory: factory)
        journalKeysBytes = Gauge(label: "gridbus_journal_keys_bytes", factory: factory)
        headSequence = Gauge(label: "gridbus_head_sequence", factory: factory)
        tailSequence = Gauge(label: "gridbus_tail_sequence", factory: factory)
        subscriptions = Gauge(label: "gridbus_subscriptions", factory: factory)
        chains = Gauge(label: "gridbus_egress_chains", factory: factory)
        laggingSubscribers = Gauge(label: "gridbus_lagging_subscribers", factory: factory)
        lagEpisodes = Counter(label: "gridbus_subscriber_lag_episodes_total", factory: factory)
        commitBatchSize = Recorder(label: "gridbus_commit_batch_events", aggregate: true, factory: factory)
        commitDuration = Timer(label: "gridbus_commit_duration_seconds", factory: factory)
        retentionRemoved = Counter(label: "gridbus_retention_removed_total", factory: factory)
        isLeader = Gauge(label: "gridbus_cluster_leader", factory: factory)
        leaseEpoch = Gauge(label: "gridbus_cluster_epoch", factory: factory)
        roleChanges = Counter(label: "gridbus_cluster_role_changes_total", factory: factory)
        followerBehind = Gauge(label: "gridbus_cluster_follower_behind_events", factory: factory)
    }
}

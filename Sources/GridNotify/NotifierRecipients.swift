import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Recipients: who a route names, and the channels each is reached through.
extension Notifier {
    func recipient(_ member: Member) -> Recipient {
        Recipient(
            id: member.id,
            name: member.name,
            language: member.language,
            phone: member.phone,
            email: member.email,
            webhook: member.webhook,
            role: member.role.rawValue
        )
    }

    func recipient(_ person: Operator) -> Recipient {
        Recipient(
            id: person.id,
            name: person.name,
            language: person.language,
            phone: person.phone,
            email: person.email,
            webhook: person.webhook,
            role: "operator"
        )
    }

    func recipients(_ selectors: [String], payload: any EventPayload, facts: NotifierStore.IncidentFacts?) throws -> [Recipient] {
        let grid = facts?.grid
        var found: [Recipient] = []
        for selector in selectors {
            switch selector {
            case "assignees":
                let assignees = (payload as? IncidentDispatched)?.assignees ?? facts?.assignees ?? []
                found += assignees.compactMap { district.membersByID[$0].map(recipient) }
            case "escalation-targets":
                for target in (payload as? IncidentEscalated)?.to ?? [] {
                    if let member = district.membersByID[target] {
                        found.append(recipient(member))
                    } else {
                        // `community:C-…`, `town:T-…`, `grid-chief:G-…`: the operators who cover that place.
                        let place = String(target.split(separator: ":", maxSplits: 1).last ?? "")
                        found += rules.operators.filter { $0.places.contains("*") || $0.places.contains(place) }.map(recipient)
                    }
                }
            case "reporter":
                if let reporter = facts?.reporter, reporter.wantsUpdates == true, let phone = reporter.phone, let incident = facts?.id {
                    found.append(
                        Recipient(
                            id: "reporter:\(incident)",
                            name: reporter.name ?? "",
                            language: rules.defaultLanguage,
                            phone: phone,
                            role: "reporter"
                        )
                    )
                }
            case "operators":
                if let change = payload as? GridModeChanged {
                    found += rules.operators.filter { $0.places.contains("*") || $0.places.contains(change.target) }.map(recipient)
                } else {
                    found += rules.operators.filter { $0.covers(grid: grid.flatMap { places[$0] }) }.map(recipient)
                }
            default:
                if let role = Member.Role(rawValue: selector) {
                    found += members(role: role, modeChange: payload as? GridModeChanged, grid: grid).map(recipient)
                } else if let member = district.membersByID[selector] {
                    found.append(recipient(member))
                } else {
                    logger.warning("a route names nobody known", metadata: ["selector": "\(selector)"])
                }
            }
        }
        return found
    }

    /// Members of a role in the incident's grid, or in every grid of the place a mode change names.
    func members(role: Member.Role, modeChange: GridModeChanged?, grid: String?) -> [Member] {
        var grids: [String] = grid.map { [$0] } ?? []
        if let change = modeChange {
            grids = places.values.filter { place in
                switch change.scope {
                case .grid: place.grid == change.target
                case .community: place.community == change.target
                case .town: place.town == change.target
                case .district: place.district == change.target
                }
            }.map(\.grid).sorted()
        }
        var seen = Set<String>()
        return grids.flatMap { district.members(of: $0) }.filter { $0.role == role && seen.insert($0.id).inserted }
    }

    /// The channels a recipient can be reached on, in the rules' order.
    func channelList(_ recipient: Recipient) -> [any NotificationChannel] {
        rules.channelOrder.compactMap { channels[$0] }.filter { channel in
            guard let address = recipient.address(for: channel.contact) else { return false }
            return channel.contact == .none || !address.isEmpty
        }
    }
}

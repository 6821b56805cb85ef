import Foundation

/// The `/_sim/state` view of an account: everything, including what the cloud APIs no longer show.
enum StateDump {
    static func account(_ account: Account, settings: SimulatorSettings, now: Date) -> JSON {
        [
            "name": .string(account.name),
            "domain_id": .string(account.domainID),
            "region": .string(account.region),
            "project_ids": .array(account.projectIDs.map(JSON.string)),
            "edition": .string(account.edition),
            "full_refunds_used_this_year": .int(Int64(account.fullRefundTimes.filter { now.timeIntervalSince($0) < 365 * 86_400 }.count)),
            "secmaster_resources": .array(account.secmasterResources.map { SecMasterHandlers.resourceJSON($0, withUsage: false) }),
            "removed_secmaster_resource_ids": .array(account.removedSecMasterResourceIDs.map(JSON.string)),
            "prepaid_resources": .array(account.prepaidResources.map { resource in
                [
                    "resource_id": .string(resource.resourceID), "parent_resource_id": .optional(resource.parentResourceID),
                    "status": .int(Int64(resource.status.rawValue)), "paid": .money(resource.paidCents),
                    "effective_time": .string(ISOTime.format(resource.effectiveAt)), "expire_time": .string(ISOTime.format(resource.expireAt)),
                    "term_months": .int(Int64(resource.termMonths)), "auto_renew": .bool(resource.autoRenew),
                    "unpaid_order_id": .optional(resource.unpaidOrderID), "unsubscribe_order_id": .optional(resource.unsubscribeOrderID),
                ]
            }),
            "orders": .array(account.orders.map { BSSHandlers.orderV2($0, account: account, settings: settings, now: now) }),
            "servers": .array(account.servers.map { server in
                [
                    "id": .string(server.id), "project_id": .string(server.projectID), "charging_mode": .string(server.chargingMode.rawValue),
                    "status": .string(ECSHandlers.displayStatus(server)), "deleting_job_id": .optional(server.deletingJobID),
                    "deleted_at": server.deletedAt.map { .string(ISOTime.format($0)) } ?? .null,
                ]
            }),
            "jobs": .array(account.jobs.map { ECSHandlers.jobJSON($0, now: now) }),
            "endpoints": .array(account.endpoints.map { endpoint in
                let gone = endpoint.deletingSince.map { now.timeIntervalSince($0) >= settings.vpcepDeletingSeconds } ?? false
                return ["id": .string(endpoint.id), "status": .string(gone ? "deleted" : endpoint.deletingSince == nil ? endpoint.status : "deleting")]
            }),
            "workspaces": .array(account.workspaces.map { workspace in
                ["id": .string(workspace.id), "nodes": .array(workspace.nodes.map(SecMasterHandlers.nodeJSON))]
            }),
            "released_attachments": .array(account.releasedAttachments.map { item in
                ["id": .string(item.id), "kind": .string(item.kind.rawValue), "fate": .string(item.fate.rawValue), "server_id": .string(item.serverID)]
            }),
        ]
    }
}

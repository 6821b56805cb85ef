import Foundation

/// Turns one seed account into an `Account`, creating the BSS side (purchase orders, prepaid resources, attached
/// EIPs and disks) for everything billed yearly/monthly.
struct AccountBuilder {
    let seed: SeedAccount
    let path: String
    let file: String
    let now: Date

    func fail(_ at: String, _ problem: String) -> SeedError { SeedError(file: file, path: path + "." + at, problem: problem) }

    func build(state: inout CloudState) throws(SeedError) -> Account {
        let region = seed.region ?? "cn-north-4"
        // Each used refund becomes an order in the history: a huge count would fill memory before listening.
        if let used = seed.fullRefundsUsed, !(0...1_000).contains(used) { throw fail("full_refunds_used", "must be between 0 and 1000") }
        guard !seed.accessKey.isEmpty else { throw fail("access_key", "must not be empty") }
        guard !seed.secretKey.isEmpty else { throw fail("secret_key", "must not be empty") }
        if let token = seed.securityToken, token.isEmpty { throw fail("security_token", "must not be empty (leave it out for a permanent access key)") }
        for (i, item) in (seed.secmaster ?? []).enumerated() {
            if let size = item.size, size < 1 { throw fail("secmaster[\(i)].size", "must be at least 1") }
        }
        var account = Account(
            name: seed.name, domainID: seed.domainId, domainName: seed.domainName ?? seed.name, region: region,
            projectIDs: seed.projectIds, accessKey: seed.accessKey, secretKey: seed.secretKey, authToken: seed.authToken,
            securityToken: seed.securityToken,
            edition: "NA", secmasterResources: [], prepaidResources: [], orders: [], servers: [], jobs: [], endpoints: [],
            workspaces: [], fullRefundTimes: Array(repeating: now.addingTimeInterval(-86_400), count: max(0, seed.fullRefundsUsed ?? 0))
        )
        // Full refunds used earlier show in BSS as completed unsubscription orders that refunded everything (no
        // consumption, no fee), as they would in a real account's order history: clients count them from there.
        // Each refunded one resource (long released) in full: one refund line, the order's amount.
        for (index, time) in account.fullRefundTimes.enumerated() {
            let orderID = "CS\(seed.domainId.prefix(8).uppercased())HIST\(index)"
            let refundCents: Int64 = 99_000
            account.orders.append(Order(
                orderID: orderID, kind: .unsubscribe,
                serviceTypeCode: "hws.service.type.secmaster", createdAt: time.addingTimeInterval(-Double(index) * 3600),
                fixedStatus: .completed, amountCents: refundCents, resourceIDs: [],
                refundLines: [RefundLine(
                    id: orderID.lowercased() + "-refund", amountCents: -refundCents, resourceID: "released-\(index)",
                    resourceTypeCode: "hws.resource.type.secmaster.quota", serviceTypeCode: "hws.service.type.secmaster",
                    regionCode: region, baseOrderID: orderID + "P")],
                commissionCents: 0, consumedCents: 0, completionApplied: true))
        }
        var ids: Set<String> = []
        func project(_ value: String?, _ at: String) throws(SeedError) -> String {
            guard let value else { return account.primaryProjectID }
            guard account.projectIDs.contains(value) else { throw fail(at, "project \(value) is not in project_ids") }
            return value
        }
        func unique(_ id: String, _ at: String) throws(SeedError) {
            guard ids.insert(id).inserted else { throw fail(at, "id \(id) is used twice in this account") }
        }

        for (i, item) in (seed.secmaster ?? []).enumerated() {
            let at = "secmaster[\(i)]"
            try unique(item.resourceId, at + ".resource_id")
            let spec = item.kind == .quota ? item.spec.uppercased() : item.spec.lowercased()
            if item.kind == .quota, !["STANDARD", "PROFESSIONAL"].contains(spec) { throw fail(at + ".spec", "a quota is 'standard' or 'professional', got '\(item.spec)'") }
            if item.kind == .package, !["large_screen", "log_collection", "log_retention", "log_analysis", "soar"].contains(spec) {
                throw fail(at + ".spec", "a package is one of large_screen, log_collection, log_retention, log_analysis, soar; got '\(item.spec)'")
            }
            let projectID = try project(item.projectId, at + ".project_id")
            let purchased = (item.purchased ?? .relative(seconds: -30 * 86_400)).resolve(now: now)
            var resource = SecMasterResource(
                resourceID: item.resourceId, projectID: projectID, kind: item.kind == .quota ? .quota : .package, spec: spec,
                chargingMode: item.chargingMode == .prepaid ? .prepaid : .postpaid, size: item.size ?? (item.kind == .quota ? 50 : 1),
                createdAt: purchased, expireAt: nil, orderID: nil
            )
            if item.chargingMode == .prepaid {
                let prepaid = try prepaidResource(
                    state: &state, account: &account, at: at, resourceID: item.resourceId, name: "SecMaster \(resource.resourceTypeName)",
                    serviceType: "hws.service.type.secmaster", resourceType: resource.resourceType, projectID: projectID, purchase: item
                )
                resource.expireAt = prepaid.expireAt
                resource.orderID = prepaid.baseOrderID
            }
            account.secmasterResources.append(resource)
        }

        for (i, item) in (seed.servers ?? []).enumerated() {
            let at = "servers[\(i)]"
            try unique(item.id, at + ".id")
            let projectID = try project(item.projectId, at + ".project_id")
            let purchased = (item.purchased ?? .relative(seconds: -30 * 86_400)).resolve(now: now)
            let server = Server(
                id: item.id, name: item.name ?? "ecs-\(item.id.prefix(8))", projectID: projectID,
                chargingMode: item.chargingMode == .prepaid ? .prepaid : .postpaid, status: item.status ?? "ACTIVE",
                vpcID: item.vpcId ?? "vpc-default", privateIP: item.privateIp ?? "192.168.0.\(10 + i)", createdAt: purchased,
                publicIPs: (item.publicIps ?? []).enumerated().map { index, ip in
                    .init(id: ip.id, address: ip.address ?? "100.64.0.\(index + 1)", deleteOnTermination: ip.deleteOnTermination ?? false)
                },
                dataVolumeIDs: item.dataVolumes ?? []
            )
            if !["ACTIVE", "SHUTOFF"].contains(server.status) { throw fail(at + ".status", "must be ACTIVE or SHUTOFF") }
            if item.chargingMode == .prepaid {
                let main = try prepaidResource(
                    state: &state, account: &account, at: at, resourceID: item.id, name: server.name,
                    serviceType: "hws.service.type.ec2", resourceType: "hws.resource.type.vm", projectID: projectID, purchase: item
                )
                // EIPs and data disks of a prepaid server are attached resources: they go with their primary.
                for ip in server.publicIPs {
                    try unique(ip.id, at + ".public_ips")
                    account.prepaidResources.append(attached(main, id: ip.id, name: "EIP \(ip.address)", serviceType: "hws.service.type.vpc", resourceType: "hws.resource.type.ip", state: &state))
                }
                for volume in server.dataVolumeIDs {
                    try unique(volume, at + ".data_volumes")
                    account.prepaidResources.append(attached(main, id: volume, name: "EVS \(volume)", serviceType: "hws.service.type.ebs", resourceType: "hws.resource.type.volume", state: &state))
                }
            }
            account.servers.append(server)
        }

        for (i, item) in (seed.endpoints ?? []).enumerated() {
            let at = "endpoints[\(i)]"
            try unique(item.id, at + ".id")
            let created = (item.created ?? .relative(seconds: -30 * 86_400)).resolve(now: now)
            // VPCEP's statuses before any deletion (`deleting` is the simulator's to set, when one is asked for).
            let statuses = ["pendingAcceptance", "creating", "accepted", "rejected", "failed"]
            if let status = item.status, !statuses.contains(status) {
                throw fail(at + ".status", "must be one of \(statuses.joined(separator: ", ")) (VPCEP's spelling); got '\(status)'")
            }
            account.endpoints.append(Endpoint(
                id: item.id, projectID: try project(item.projectId, at + ".project_id"),
                serviceName: item.serviceName ?? "\(region).secmaster.collector", serviceID: "svc-" + item.id.prefix(8),
                vpcID: item.vpcId ?? "vpc-default", subnetID: item.subnetId ?? "subnet-default", ip: item.ip ?? "192.168.1.\(10 + i)",
                status: item.status ?? "accepted", markerID: Int64(1000 + i), createdAt: created, updatedAt: created, deletingSince: nil
            ))
        }

        for (i, item) in (seed.workspaces ?? []).enumerated() {
            let at = "workspaces[\(i)]"
            try unique(item.id, at + ".id")
            var nodes: [CollectionNode] = []
            for (n, node) in (item.nodes ?? []).enumerated() {
                try unique(node.nodeId, "\(at).nodes[\(n)].node_id")
                nodes.append(CollectionNode(
                    nodeID: node.nodeId, nodeName: node.nodeName ?? "node-\(n + 1)", privateIP: node.privateIp ?? "192.168.0.\(100 + n)",
                    vpcID: node.vpcId ?? "vpc-default", subnetID: node.subnetId ?? "subnet-default", vpcEndpointID: node.vpcEndpointId,
                    vpcEndpointAddress: node.vpcEndpointAddress ?? "192.168.1.\(200 + n)", region: region, createdAt: now.addingTimeInterval(-30 * 86_400)
                ))
            }
            account.workspaces.append(Workspace(
                id: item.id, name: item.name ?? "workspace-\(i + 1)", projectID: try project(item.projectId, at + ".project_id"),
                createdAt: now.addingTimeInterval(-60 * 86_400), nodes: nodes
            ))
        }

        if let edition = seed.edition {
            let upper = edition.uppercased()
            guard ["NA", "BASIC", "STANDARD", "PROFESSIONAL"].contains(upper) else { throw fail("edition", "must be NA, BASIC, STANDARD or PROFESSIONAL") }
            account.edition = upper
        } else {
            account.edition = account.secmasterResources.isEmpty ? "NA" : "BASIC"
        }
        // The quotas decide the edition when present; an explicit BASIC/NA stays when there are none. An explicit
        // edition the quotas contradict is refused rather than silently replaced.
        let quotas = account.secmasterResources.filter { $0.kind == .quota }.map(\.spec)
        let fromQuotas = quotas.contains("PROFESSIONAL") ? "PROFESSIONAL" : quotas.contains("STANDARD") ? "STANDARD" : nil
        if let fromQuotas {
            if seed.edition != nil, account.edition != fromQuotas {
                throw fail("edition", "is \(account.edition), but the account's asset quotas make it \(fromQuotas) (the highest quota decides); omit edition or set it to \(fromQuotas)")
            }
            account.edition = fromQuotas
        }
        return account
    }

    /// Creates the BSS resource and its paid purchase order (plus an unpaid renewal order when asked).
    private func prepaidResource(
        state: inout CloudState, account: inout Account, at: String, resourceID: String, name: String,
        serviceType: String, resourceType: String, projectID: String, purchase: some SeedPurchase
    ) throws(SeedError) -> PrepaidResource {
        guard let paid = purchase.paidAmount else { throw fail(at + ".paid_amount", "required for a prepaid resource (yuan actually paid)") }
        guard paid >= 0 else { throw fail(at + ".paid_amount", "must not be negative") }
        guard paid.isFinite, paid <= 100_000_000 else { throw fail(at + ".paid_amount", "must be at most 100000000 (yuan)") }
        let term = purchase.term ?? SeedTerm(months: 12)
        let purchased = (purchase.purchased ?? .relative(seconds: -30 * 86_400)).resolve(now: now)
        let cents = Int64((paid * 100).rounded())
        let orderID = state.newOrderID(at: purchased)
        account.orders.append(Order(
            orderID: orderID, kind: .new, serviceTypeCode: serviceType, createdAt: purchased, fixedStatus: .completed,
            amountCents: cents, resourceIDs: [resourceID], refundLines: [], commissionCents: 0, consumedCents: 0, completionApplied: true
        ))
        var unpaid: String?
        if purchase.unpaidOrder == true {
            let unpaidID = state.newOrderID(at: now.addingTimeInterval(-3600))
            account.orders.append(Order(
                orderID: unpaidID, kind: .renew, serviceTypeCode: serviceType, createdAt: now.addingTimeInterval(-3600), fixedStatus: .pendingPayment,
                amountCents: cents, resourceIDs: [resourceID], refundLines: [], commissionCents: 0, consumedCents: 0, completionApplied: true
            ))
            unpaid = unpaidID
        }
        let expire = purchased.addingTimeInterval(term.seconds)
        let resource = PrepaidResource(
            instanceID: state.newHexID(), resourceID: resourceID, name: name, serviceTypeCode: serviceType, resourceTypeCode: resourceType,
            regionCode: account.region, projectID: projectID, parentResourceID: nil, status: expire < now ? .expired : .inUse,
            effectiveAt: purchased, expireAt: expire, termMonths: term.months, paidCents: cents, baseOrderID: orderID,
            autoRenew: purchase.autoRenew ?? false, unpaidOrderID: unpaid, unsubscribeOrderID: nil
        )
        account.prepaidResources.append(resource)
        return resource
    }

    private func attached(_ main: PrepaidResource, id: String, name: String, serviceType: String, resourceType: String, state: inout CloudState) -> PrepaidResource {
        var resource = main
        resource.instanceID = state.newHexID()
        resource.resourceID = id
        resource.name = name
        resource.serviceTypeCode = serviceType
        resource.resourceTypeCode = resourceType
        resource.parentResourceID = main.resourceID
        resource.paidCents = 0
        return resource
    }
}

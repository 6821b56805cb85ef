import Foundation
import HuaweiCloud
import UnwindCore

/// Discovers what a teardown acts on, calling read-only APIs only.
struct InventoryReader {
    let client: HuaweiCloudClient
    let input: TeardownInput
    let now: Date
    /// The billing rules the plan uses (the window, the full refunds a year).
    var estimator: RefundEstimator
    /// The five-day full-refund window: the account's past full refunds are counted resource by resource (one
    /// more call per past order) only when something to unsubscribe is inside it, since otherwise no count matters.
    var fullRefundWindow: TimeInterval { estimator.windowDays * 86_400 }

    func read() async throws(StepFailure) -> TeardownInventory {
        let account = input.account
        guard let subscription = try await cloud({ () async throws(CloudError) in try await client.listSubscriptionResources(projectID: account.projectID) }) else {
            throw StepFailure(code: "not_found", message: "SecMaster has no subscription record for project \(account.projectID)", retryable: false)
        }
        var quotas: [SubscriptionItem] = []
        var packages: [SubscriptionItem] = []
        for resource in subscription.resources {
            let item = SubscriptionItem(
                resourceID: resource.resourceID, name: resource.resourceTypeName.isEmpty ? resource.resourceType : resource.resourceTypeName,
                kind: SecMasterCatalog.kind(of: resource), chargingMode: resource.chargingMode == .prepaid ? .prepaid : .postpaid,
                orderID: resource.orderID)
            if item.kind == .quota { quotas.append(item) } else { packages.append(item) }
        }

        // Collection nodes, the servers they run on (same VPC and private IP) and their VPC endpoints.
        let workspaces = try await cloud({ () async throws(CloudError) in try await client.listWorkspaces(projectID: account.projectID) }) ?? []
        var nodesByWorkspace: [(workspace: String, nodes: [CollectionNode])] = []
        for workspace in workspaces {
            let found = try await cloud({ () async throws(CloudError) in
                try await client.listCollectionNodes(projectID: account.projectID, workspaceID: workspace.id)
            }) ?? []
            nodesByWorkspace.append((workspace.id, found))
        }
        // The servers are only looked at to find the collection nodes' hosts: a project without nodes (most of
        // a fleet) is not listed.
        let hasNodes = nodesByWorkspace.contains { !$0.nodes.isEmpty }
        let allServers = hasNodes ? try await cloud({ () async throws(CloudError) in try await client.listServers(projectID: account.projectID) }) ?? [] : []
        var nodes: [CollectionNodeItem] = []
        for (workspace, found) in nodesByWorkspace {
            for node in found {
                let ip = node.privateIP ?? node.ipAddress
                let server = allServers.first { server in
                    !server.isDeleted && ip.map { server.privateIPs.contains($0) } == true
                        && (node.vpcID == nil || server.vpcID == nil || node.vpcID == server.vpcID)
                }
                nodes.append(CollectionNodeItem(
                    nodeID: node.nodeID, name: node.nodeName, workspaceID: workspace, privateIP: ip, vpcID: node.vpcID,
                    endpointID: node.vpcEndpointID, serverID: server?.id))
            }
        }
        var servers: [ServerItem] = []
        for id in Set(nodes.compactMap(\.serverID)).sorted() {
            guard let server = allServers.first(where: { $0.id == id }) else { continue }
            servers.append(ServerItem(
                id: server.id, name: server.name, chargingMode: server.chargingMode == .prepaid ? .prepaid : .postpaid, status: server.status,
                publicIPs: server.publicIPs))
        }
        var endpointVPCs: [String: String?] = [:]
        for node in nodes { if let id = node.endpointID { endpointVPCs[id] = endpointVPCs[id] ?? node.vpcID } }
        let liveEndpoints = try await EndpointLookup(client: client, projectID: account.projectID)
            .live(endpointVPCs.map { (id: $0.key, vpcID: $0.value) }, confirmAbsence: true)
        let endpoints = liveEndpoints.values.sorted { $0.id < $1.id }.map { EndpointItem(id: $0.id, vpcID: $0.vpcID, status: $0.status) }

        // BSS billing of the yearly/monthly ones: term, expiry, auto-renew, what was paid.
        let prepaidIDs = quotas.filter { $0.chargingMode == .prepaid }.map(\.resourceID)
            + packages.filter { $0.chargingMode == .prepaid }.map(\.resourceID)
            + servers.filter { $0.chargingMode == .prepaid }.map(\.id)
        var billing: [String: PrepaidBilling] = [:]
        for chunk in stride(from: 0, to: prepaidIDs.count, by: 50).map({ Array(prepaidIDs[$0..<min($0 + 50, prepaidIDs.count)]) }) {
            let resources = try await cloud({ () async throws(CloudError) in
                try await client.queryCustomerResources(domainID: account.domainID, resourceIDs: chunk, onlyMainResource: true)
            }) ?? []
            for resource in resources {
                guard let effective = resource.effectiveTime.flatMap(Self.parseTime), let expire = resource.expireTime.flatMap(Self.parseTime) else { continue }
                billing[resource.resourceID] = PrepaidBilling(
                    effectiveAt: effective, expireAt: expire, autoRenew: resource.expirePolicy == 3, status: resource.status)
            }
        }
        let history = try await orderHistory()
        // One purchase order can cover several resources; orders of the last year come with the listing.
        var paidByOrder: [String: Decimal?] = history.paidByOrder
        for index in quotas.indices {
            quotas[index].billing = try await withPaidAmount(billing[quotas[index].resourceID], orderID: quotas[index].orderID, known: &paidByOrder)
        }
        for index in packages.indices {
            packages[index].billing = try await withPaidAmount(billing[packages[index].resourceID], orderID: packages[index].orderID, known: &paidByOrder)
        }
        for index in servers.indices { servers[index].billing = billing[servers[index].id] }
        // The account's last full refunds go to the resources that save the most: inside the window, most paid
        // first. BSS uses them in the order of the request's resources, and the steps and the plan both follow
        // this order.
        quotas.sort(by: fullRefundOrder)
        packages.sort(by: fullRefundOrder)

        // An hour of margin: the teardown's orders come some time after this inventory.
        let insideTheWindow = billing.values.contains { $0.status == 2 && now.timeIntervalSince($0.effectiveAt) < fullRefundWindow + 3600 }
        return TeardownInventory(
            takenAt: now, account: account, edition: subscription.csbVersion.uppercased(), quotas: quotas, packages: packages,
            nodes: nodes, servers: servers, endpoints: endpoints,
            fullRefundsUsed: try await fullRefundsUsed(history.placedUnsubscriptions, perResource: insideTheWindow),
            openOrders: history.open)
    }

    /// Resources surely inside their window first (dearest first: they get the full refunds left), then those whose
    /// window closes about now (BSS may or may not refund them in full), then the rest.
    private func fullRefundOrder(_ a: SubscriptionItem, _ b: SubscriptionItem) -> Bool {
        func key(_ item: SubscriptionItem) -> (rank: Int, paid: Double) {
            guard let billing = item.billing, billing.status == 2 else { return (2, -1) }
            if estimator.isNearWindowClose(effectiveAt: billing.effectiveAt, now: now) { return (1, billing.paidAmount ?? -1) }
            return (now.timeIntervalSince(billing.effectiveAt) < fullRefundWindow ? 0 : 2, billing.paidAmount ?? -1)
        }
        let (ka, kb) = (key(a), key(b))
        if ka.rank != kb.rank { return ka.rank < kb.rank }
        if ka.paid != kb.paid { return ka.paid > kb.paid }
        return a.resourceID < b.resourceID
    }

    /// What was paid, from the purchase order (BSS shows no amount on the resource itself).
    private func withPaidAmount(_ billing: PrepaidBilling?, orderID: String?, known: inout [String: Decimal?]) async throws(StepFailure) -> PrepaidBilling? {
        guard var billing, let orderID else { return billing }
        let account = input.account
        let paid: Decimal?
        if let remembered = known[orderID] {
            paid = remembered
        } else {
            paid = try await cloud({ () async throws(CloudError) in try await client.orderDetails(domainID: account.domainID, orderID: orderID) })?.amountAfterDiscount
            known[orderID] = .some(paid)
        }
        if let paid {
            let amount = money(paid)
            guard amount.isFinite, (0...RefundEstimator.largestAmount).contains(amount) else {
                throw StepFailure(
                    code: "implausible_amount",
                    message: "BSS says purchase order \(orderID) was paid \(paid) CNY, which cannot be right (expected 0 to \(Int(RefundEstimator.largestAmount))); nothing was changed. Check the order in the Billing Center and report the answer",
                    retryable: false)
            }
            billing.paidAmount = amount
        }
        return billing
    }

    /// The account's orders that the inventory needs: completed unsubscriptions (for the full refunds used),
    /// open orders (BSS refuses to unsubscribe while one involves the resource) and what purchase orders paid.
    private struct OrderHistory {
        /// Unsubscription orders placed (see ``placedStatuses``), newest first.
        var placedUnsubscriptions: [CustomerOrder]
        var open: [OpenOrder]
        var paidByOrder: [String: Decimal?]
    }

    /// Most accounts' orders of the last year fit one page: one listing then answers all three questions. A longer
    /// history is listed by type and status instead (three listings, each with every page), as it always was.
    private func orderHistory() async throws(StepFailure) -> OrderHistory {
        let domain = input.account.domainID
        let listed = try await cloud({ () async throws(CloudError) in
            try await client.recentOrders(domainID: domain, createdSince: now.addingTimeInterval(-366 * 86_400))
        }) ?? (orders: [], complete: true)
        var paid: [String: Decimal?] = [:]
        for order in listed.orders where order.orderType != CustomerOrder.typeUnsubscribe {
            if let amount = order.amountAfterDiscount { paid[order.orderID] = .some(amount) }
        }
        if listed.complete {
            return OrderHistory(
                placedUnsubscriptions: listed.orders.filter { $0.orderType == CustomerOrder.typeUnsubscribe && Self.placedStatuses.contains($0.status) },
                open: listed.orders.filter { OpenOrder.statuses.contains($0.status) }.map { OpenOrder(orderID: $0.orderID, status: $0.status) },
                paidByOrder: paid)
        }
        var placed: [CustomerOrder] = []
        for status in Self.placedStatuses {
            placed += try await cloud({ () async throws(CloudError) in try await client.listOrders(domainID: domain, orderType: CustomerOrder.typeUnsubscribe, status: status) }) ?? []
        }
        // Newest first, as the single listing gives them: the count below stops once the year's refunds are all used.
        // Each time parsed once, not in every comparison (a parse may build a date formatter).
        let newestFirst = placed.map { ($0, $0.createTime.flatMap(Self.parseTime) ?? .distantPast) }.sorted { $0.1 > $1.1 }.map(\.0)
        return OrderHistory(placedUnsubscriptions: newestFirst, open: try await Self.openOrders(client, domain: domain), paidByOrder: paid)
    }

    /// Unsubscription orders that used (or will use) a full refund: completed ones, and those still processing or
    /// waiting for their refund. BSS takes the refund when the order is placed, so an unsubscription of another
    /// project, or one made by hand a moment ago, counts before it completes.
    static let placedStatuses = [5, 2, 3]

    /// Orders pending payment or being processed, of any age, listed by status.
    static func openOrders(_ client: HuaweiCloudClient, domain: String) async throws(StepFailure) -> [OpenOrder] {
        var open: [OpenOrder] = []
        for status in OpenOrder.statuses {
            let orders = try await cloud({ () async throws(CloudError) in try await client.listOrders(domainID: domain, orderType: nil, status: status) }) ?? []
            open += orders.map { OpenOrder(orderID: $0.orderID, status: status) }
        }
        return open
    }

    /// Five-day full refunds used in the last 365 days, from the account's completed unsubscription orders.
    ///
    /// BSS counts a full refund per resource, and one order may unsubscribe up to ten (this teardown's own orders
    /// do): an order that refunded everything used one per resource, and an order that charged a fee for some
    /// resources may still have refunded others in full. With `perResource`, each order's refund breakdown is read
    /// to count them: one refund line per resource, and one or two charge lines (consumption, fee) for each resource
    /// that was not refunded in full, so the count errs towards more refunds used (a fee acknowledged that turns
    /// out free) and never towards fewer (a fee nobody acknowledged). Without it, one per order that refunded
    /// everything: nothing to unsubscribe is inside its window then, so no estimate depends on the count, and only
    /// the plan's "N of 10 left" may say a few too many.
    private func fullRefundsUsed(_ orders: [CustomerOrder], perResource: Bool) async throws(StepFailure) -> Int {
        let account = input.account
        var count = 0
        // Every order of the year is read, newest first, until the year's full refunds are all accounted for: a long
        // history of unsubscriptions with fees hid the refunds behind its 200 newest orders (the plan said refunds
        // were left, and BSS charged a fee nobody acknowledged).
        for order in orders where count < estimator.fullRefundsPerYear {
            if let created = order.createTime.flatMap(Self.parseTime), now.timeIntervalSince(created) > 365 * 86_400 { continue }
            // The list carries each order's `amount_info`; only an order listed without it is read on its own
            // (one call per past order made the history a third of the inventory's calls).
            let fee: Decimal?, consumed: Decimal?
            if let listedFee = order.commissionAmount, let listedConsumed = order.consumedAmount {
                (fee, consumed) = (listedFee, listedConsumed)
            } else {
                guard let details = try await cloud({ () async throws(CloudError) in try await client.orderDetails(domainID: account.domainID, orderID: order.orderID) }) else { continue }
                (fee, consumed) = (details.commissionAmount, details.consumedAmount)
            }
            let refundedEverything = money(fee) == 0 && money(consumed) == 0
            guard perResource else {
                if refundedEverything { count += 1 }
                continue
            }
            let lines = try await cloud({ () async throws(CloudError) in try await client.refundOrders(domainID: account.domainID, orderID: order.orderID) }) ?? []
            var refunds = Self.fullRefunds(inOrderWith: lines, refundedEverything: refundedEverything)
            if order.status != 5 {
                // Still processing or waiting for its refund: its refund lines and amounts may not be there yet, but
                // BSS took a full refund per resource when the order was placed. Count every resource it covers.
                let covered = try await cloud({ () async throws(CloudError) in
                    try await client.queryCustomerResources(domainID: account.domainID, resourceIDs: [], onlyMainResource: true, orderID: order.orderID, statusList: [2, 3, 4, 5])
                }) ?? []
                refunds = max(refunds, covered.count)
            }
            count += refunds
        }
        return count
    }

    /// Full refunds in one unsubscription order, from its refund lines (negative: a resource's refund; positive: a
    /// resource's consumption or fee). See ``fullRefundsUsed(_:perResource:)``.
    static func fullRefunds(inOrderWith lines: [RefundInfo], refundedEverything: Bool) -> Int {
        // A resource whose consumption and fee took everything has a refund line of zero.
        let refunds = lines.filter { $0.amount <= 0 }.count
        let charges = lines.filter { $0.amount > 0 }.count
        if refundedEverything { return max(1, refunds) }
        return max(0, refunds - (charges + 1) / 2)
    }

    static func parseTime(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

import Foundation

/// Everything the teardown acts on, discovered by the `inventory` step (read-only) and saved as its output.
/// Every later step acts on this inventory and re-reads the live state of a resource before changing it.
public struct TeardownInventory: Sendable, Codable, Equatable {
    public var takenAt: Date
    public var account: AccountReference
    /// SecMaster's `csb_version`: BASIC, STANDARD, PROFESSIONAL or NA.
    public var edition: String
    public var quotas: [SubscriptionItem]
    public var packages: [SubscriptionItem]
    public var nodes: [CollectionNodeItem]
    /// The ECS servers the collection nodes run on.
    public var servers: [ServerItem]
    /// The VPC endpoints the collection nodes use.
    public var endpoints: [EndpointItem]
    /// Five-day full refunds this account used in the last 365 days (from its unsubscription orders).
    public var fullRefundsUsed: Int
    /// Orders pending payment or being processed when the inventory was taken. nil in an inventory taken before
    /// Unwind read them together with the rest; preflight then lists them itself.
    public var openOrders: [OpenOrder]?

    /// Yearly/monthly items whose term has run out. They cannot be unsubscribed; BSS releases them at the end of
    /// their retention period, and they are not billed meanwhile. SecMaster lists them until then.
    func expired(_ items: [SubscriptionItem]) -> [String] {
        items.filter { $0.billing?.isExpired == true }.map(\.resourceID).sorted()
    }

    /// Collection servers whose yearly/monthly term has run out: left to BSS like expired SecMaster items.
    var expiredServers: [String] {
        servers.filter { $0.billing?.isExpired == true }.map(\.id).sorted()
    }

    /// Why preflight will stop a teardown of `scope` before any change, with its error code: the packages could
    /// not go. The plan shows the same reason as a warning.
    func preflightStop(scope: TeardownScope) -> (code: String, reason: String)? {
        if scope.touchesPackages, let blocked = expiredQuotaBlockingPackages { return ("expired_quota_blocks_packages", blocked) }
        if scope == .packages, let remaining = liveQuotasBlockingPackages { return ("quotas_remain", remaining) }
        return nil
    }

    /// For `secmaster-unsubscribe-packages`, which does not touch the quotas: live asset quotas keep the packages
    /// from going (SecMaster refuses them until no quota remains and the edition is basic).
    var liveQuotasBlockingPackages: String? {
        let live = quotas.filter { $0.billing?.isExpired != true }.map(\.resourceID)
        guard !live.isEmpty, !packages.isEmpty else { return nil }
        return "asset quotas \(live.joined(separator: ", ")) remain, and value-added packages can only be unsubscribed once no asset quota remains and the edition is basic. Run secmaster-full-teardown instead, or unsubscribe the quotas first"
    }

    /// A reason the value-added packages cannot go now, found before anything changes: an expired asset quota is
    /// still listed (so the edition stays above basic) while a package is live.
    var expiredQuotaBlockingPackages: String? {
        let expiredQuotas = expired(quotas)
        let livePackages = packages.filter { $0.billing?.isExpired != true }.map(\.resourceID)
        guard !expiredQuotas.isEmpty, !livePackages.isEmpty else { return nil }
        return "asset quota \(expiredQuotas.joined(separator: ", ")) has expired and SecMaster lists it until BSS releases it at the end of its retention period; value-added packages (\(livePackages.joined(separator: ", "))) cannot be unsubscribed while a quota is listed. Renew the quota or wait for its release, then submit again"
    }

    /// Resource → the purchase order SecMaster lists for it (yearly/monthly items only).
    func purchaseOrders(of items: [SubscriptionItem]) -> [String: String] {
        Dictionary(items.compactMap { item in item.orderID.map { (item.resourceID, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    public init(
        takenAt: Date, account: AccountReference, edition: String, quotas: [SubscriptionItem] = [],
        packages: [SubscriptionItem] = [], nodes: [CollectionNodeItem] = [], servers: [ServerItem] = [],
        endpoints: [EndpointItem] = [], fullRefundsUsed: Int = 0, openOrders: [OpenOrder]? = nil
    ) {
        self.takenAt = takenAt
        self.account = account
        self.edition = edition
        self.quotas = quotas
        self.packages = packages
        self.nodes = nodes
        self.servers = servers
        self.endpoints = endpoints
        self.fullRefundsUsed = fullRefundsUsed
        self.openOrders = openOrders
    }

    /// Yearly/monthly resources in the order the teardown unsubscribes them: quotas, packages, servers.
    public var prepaidInOrder: [(id: String, name: String, billing: PrepaidBilling)] {
        quotas.compactMap { item in item.billing.map { (item.resourceID, item.name, $0) } }
            + packages.compactMap { item in item.billing.map { (item.resourceID, item.name, $0) } }
            + servers.compactMap { server in server.billing.map { (server.id, server.name, $0) } }
    }
}

public struct AccountReference: Sendable, Codable, Equatable {
    public var domainID: String
    public var projectID: String
    public var region: String

    public init(domainID: String, projectID: String, region: String) {
        self.domainID = domainID
        self.projectID = projectID
        self.region = region
    }
}

public enum ChargingMode: String, Sendable, Codable, Equatable {
    /// Yearly/monthly: unsubscribed through BSS, with a refund or a handling fee.
    case prepaid
    /// Pay-per-use: cancelled (SecMaster) or deleted (ECS) in its own service.
    case postpaid
}

/// A BSS order that is not finished. BSS refuses to unsubscribe a resource while an order involving it is open.
public struct OpenOrder: Sendable, Codable, Equatable {
    /// Pending payment (6) and being processed (3), in the order they are reported.
    static let statuses = [6, 3]

    public var orderID: String
    public var status: Int

    public init(orderID: String, status: Int) {
        self.orderID = orderID
        self.status = status
    }

    var warning: String {
        "order \(orderID) is \(status == 6 ? "pending payment" : "being processed"); BSS refuses to unsubscribe resources with an order in progress (pay or cancel it in the Billing Center)"
    }
}

/// An asset quota or value-added package of SecMaster.
public struct SubscriptionItem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case quota, package }

    public var resourceID: String
    /// e.g. `standard_quota`, `log_analysis`.
    public var name: String
    public var kind: Kind
    public var chargingMode: ChargingMode
    /// The purchase order (yearly/monthly only).
    public var orderID: String?
    public var billing: PrepaidBilling?

    public init(resourceID: String, name: String, kind: Kind, chargingMode: ChargingMode, orderID: String? = nil, billing: PrepaidBilling? = nil) {
        self.resourceID = resourceID
        self.name = name
        self.kind = kind
        self.chargingMode = chargingMode
        self.orderID = orderID
        self.billing = billing
    }
}

/// What BSS knows about a yearly/monthly resource.
public struct PrepaidBilling: Sendable, Codable, Equatable {
    public var effectiveAt: Date
    public var expireAt: Date
    public var autoRenew: Bool
    /// BSS status: 2 in use, 3 closed, 4 frozen, 5 expired.
    public var status: Int
    /// What was paid for the current term, when BSS shows it (from the purchase order).
    public var paidAmount: Double?

    /// BSS status 5: cannot be unsubscribed, released by BSS at the end of its retention period.
    public var isExpired: Bool { status == 5 }

    public init(effectiveAt: Date, expireAt: Date, autoRenew: Bool, status: Int = 2, paidAmount: Double? = nil) {
        self.effectiveAt = effectiveAt
        self.expireAt = expireAt
        self.autoRenew = autoRenew
        self.status = status
        self.paidAmount = paidAmount
    }

    /// The subscribed term in whole months, as BSS sells them (1, 3, 6, 12, 24, 36).
    public var termMonths: Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let months = calendar.dateComponents([.month, .day], from: effectiveAt, to: expireAt)
        return max(1, (months.month ?? 0) + ((months.day ?? 0) >= 15 ? 1 : 0))
    }
}

public struct CollectionNodeItem: Sendable, Codable, Equatable {
    public var nodeID: String
    public var name: String
    public var workspaceID: String
    public var privateIP: String?
    public var vpcID: String?
    public var endpointID: String?
    /// The ECS server found for this node (matched by private IP within its VPC).
    public var serverID: String?

    public init(nodeID: String, name: String, workspaceID: String, privateIP: String?, vpcID: String?, endpointID: String?, serverID: String?) {
        self.nodeID = nodeID
        self.name = name
        self.workspaceID = workspaceID
        self.privateIP = privateIP
        self.vpcID = vpcID
        self.endpointID = endpointID
        self.serverID = serverID
    }
}

public struct ServerItem: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var chargingMode: ChargingMode
    public var status: String
    public var billing: PrepaidBilling?
    /// The EIPs bound to it (nil in inventories taken before this was recorded).
    public var publicIPs: [String]?

    public init(id: String, name: String, chargingMode: ChargingMode, status: String, billing: PrepaidBilling? = nil, publicIPs: [String]? = nil) {
        self.id = id
        self.name = name
        self.chargingMode = chargingMode
        self.status = status
        self.billing = billing
        self.publicIPs = publicIPs
    }
}

public struct EndpointItem: Sendable, Codable, Equatable {
    public var id: String
    public var vpcID: String?
    public var status: String

    public init(id: String, vpcID: String?, status: String) {
        self.id = id
        self.vpcID = vpcID
        self.status = status
    }
}

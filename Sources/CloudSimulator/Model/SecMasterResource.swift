import Foundation

/// A SecMaster edition asset quota or value-added package as listed by `ListSubscriptionOrder`.
public struct SecMasterResource: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// An asset quota: owning one makes the account STANDARD or PROFESSIONAL.
        case quota
        /// A value-added package (large_screen, log_collection, log_retention, log_analysis, soar).
        case package
    }

    public enum ChargingMode: String, Sendable, Equatable {
        case prepaid = "PREPAID"
        case postpaid = "POSTPAID"
    }

    public var resourceID: String
    public var projectID: String
    public var kind: Kind
    /// For quotas: STANDARD or PROFESSIONAL. For packages: the package name.
    public var spec: String
    public var chargingMode: ChargingMode
    public var size: Int
    public var createdAt: Date
    public var expireAt: Date?
    /// The purchase order (prepaid only, as in the real API).
    public var orderID: String?

    public var resourceTypeName: String {
        switch kind {
        case .quota: "\(spec.lowercased())_quota"
        case .package: spec
        }
    }

    public var resourceType: String {
        switch kind {
        case .quota: "hws.resource.type.secmaster.\(spec.lowercased())"
        case .package: "hws.resource.type.secmaster.\(spec)"
        }
    }

    public var specCode: String {
        switch kind {
        case .quota: "secmaster.\(spec.lowercased()).ecs"
        case .package: "secmaster.\(spec)"
        }
    }
}

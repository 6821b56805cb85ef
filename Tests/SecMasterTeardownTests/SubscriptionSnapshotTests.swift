import Foundation
import HuaweiCloud
@testable import SecMasterTeardown
import Testing
import UnwindCore

/// The quota step hands its last listing of the subscription to the packages step; these are the rules for
/// trusting it, without a database or a cloud.
@Suite struct SubscriptionSnapshotTests {
    static let package = SecMasterResource(
        resourceID: "sm-pkg-1", resourceType: "hws.resource.type.secmaster.log_analysis", resourceTypeName: "log_analysis",
        chargingMode: .prepaid)
    static let quota = SecMasterResource(
        resourceID: "sm-quota-1", resourceType: "hws.resource.type.secmaster.typical", resourceTypeName: "asset quota",
        chargingMode: .prepaid)

    static func output(_ snapshot: SubscriptionSnapshot) -> JSONValue {
        .object(["edition_after": "BASIC", SubscriptionSnapshot.outputKey: .encoding(snapshot)])
    }

    @Test func aFreshListingWithNoQuotaIsHandedOver() throws {
        let taken = Date(timeIntervalSince1970: 1_800_000_000)
        let snapshot = SubscriptionSnapshot(SecMasterSubscription(csbVersion: "basic", resources: [Self.package]), takenAt: taken)
        let handed = try #require(SubscriptionSnapshot.handedOver(Self.output(snapshot), now: taken.addingTimeInterval(2)))
        #expect(handed.allowsPackageUnsubscription)
        #expect(handed.resourceIDs == ["sm-pkg-1"])
        #expect(handed.edition == "BASIC")
    }

    @Test func anOldOrFutureListingIsNotTrusted() {
        let taken = Date(timeIntervalSince1970: 1_800_000_000)
        let output = Self.output(SubscriptionSnapshot(SecMasterSubscription(csbVersion: "BASIC", resources: []), takenAt: taken))
        #expect(SubscriptionSnapshot.handedOver(output, now: taken.addingTimeInterval(SubscriptionSnapshot.maxHandOverAge + 1)) == nil,
                "a resume or a long backlog lists the subscription again")
        #expect(SubscriptionSnapshot.handedOver(output, now: taken.addingTimeInterval(-5)) == nil, "taken in this worker's future")
    }

    @Test func noSnapshotOrAnUnreadableOneIsIgnored() {
        let now = Date()
        #expect(SubscriptionSnapshot.handedOver(nil, now: now) == nil)
        #expect(SubscriptionSnapshot.handedOver(.object(["edition_after": "BASIC"]), now: now) == nil, "an output from before the hand-over existed")
        #expect(SubscriptionSnapshot.handedOver(.object([SubscriptionSnapshot.outputKey: "garbage"]), now: now) == nil)
    }

    @Test func packagesWaitForTheQuotasAndTheBasicEdition() {
        let now = Date()
        #expect(!SubscriptionSnapshot(SecMasterSubscription(csbVersion: "BASIC", resources: [Self.quota, Self.package]), takenAt: now).allowsPackageUnsubscription)
        #expect(!SubscriptionSnapshot(SecMasterSubscription(csbVersion: "STANDARD", resources: [Self.package]), takenAt: now).allowsPackageUnsubscription)
        #expect(SubscriptionSnapshot(SecMasterSubscription(csbVersion: "NA", resources: [Self.package]), takenAt: now).allowsPackageUnsubscription)
        #expect(SubscriptionSnapshot(SecMasterSubscription(csbVersion: "", resources: []), takenAt: now).allowsPackageUnsubscription)
    }
}

/// Amounts from BSS are decimals; reports show them as JSON numbers.
@Suite struct MoneyTests {
    @Test func decimalsBecomeTheNearestDoubleNotANeighbour() throws {
        #expect(money(try #require(Decimal(string: "273.97"))) == 273.97)
        #expect("\(money(try #require(Decimal(string: "273.97"))))" == "273.97", "no 273.96999999999997 in a report")
        #expect(money(try #require(Decimal(string: "-1250.13"))) == -1250.13)
        #expect(money(nil) == 0)
    }
}

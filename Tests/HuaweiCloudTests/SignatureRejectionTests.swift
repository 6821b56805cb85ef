import AsyncHTTPClient
import Foundation
@testable import HuaweiCloud
import HuaweiCloudSigning
import NIOCore
import Testing

/// Issue 7 §4 from Unwind's side: the simulator rejects what a real gateway rejects, and Unwind's own signer passes.
@Suite("Signature rejection")
struct SignatureRejectionTests {
    @Test func unwindsSignerPassesAndBadSignaturesAreRefusedAsPermanent() async throws {
        try await SimulatorEndToEndTests.withSimulator { _, client in
            let account = try SimulatorEndToEndTests.account("prepaid-standard-old")
            // Unwind's signer passes.
            let good = try client(account, .seconds(60))
            _ = try await good.listWorkspaces(projectID: account.projectID)

            // A wrong secret key: 401 APIGW.0301, permanent (retrying cannot fix credentials).
            var wrongKey = account
            wrongKey.credentials.secretKey = "not-the-secret-key"
            let wrongClient = try client(wrongKey, .seconds(60))
            let wrong = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await wrongClient.listWorkspaces(projectID: account.projectID)
            })
            #expect(wrong.httpStatus == 401 && wrong.code == "APIGW.0301" && wrong.classification == .permanent)
            #expect(!wrong.description.contains("not-the-secret-key"))

            // A stale request (X-Sdk-Date 20 minutes old, beyond the 15-minute skew): refused.
            let endpoints = good.endpoints
            let stale = HuaweiCloudClient(
                endpoints: endpoints, credentials: account.credentials, httpClient: .shared, timeout: .seconds(60),
                logger: TestSupport.quietLogger, userAgent: HuaweiCloudClient.defaultUserAgent,
                clock: { Int64(Date().timeIntervalSince1970) - 1200 })
            let staleError = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await stale.listWorkspaces(projectID: account.projectID)
            })
            #expect(staleError.httpStatus == 401 && staleError.code == "APIGW.0301", "\(staleError)")

            // An unsigned request: refused.
            var request = HTTPClientRequest(url: endpoints.baseURL(for: .secmaster) + "/v1/\(account.projectID)/workspaces")
            request.headers.add(name: "X-Project-Id", value: account.projectID)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status.code == 401)
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            #expect(body.contains("APIGW.0301"))
        }
    }

    /// Against a cloud that refuses a repeated signature (the simulator's `replay_protection`, off by default).
    @Test func theSameMutatingCallTwiceInOneSecondIsNotMistakenForAReplay() async throws {
        try await SimulatorEndToEndTests.withSimulator(settings: ["replay_protection": "mutating"]) { simulator, client in
            let account = try SimulatorEndToEndTests.account("prepaid-standard-old")
            let unwind = try client(account, .seconds(60))
            // Identical requests signed within one second have identical SDK signatures; Unwind's signed per-request
            // nonce keeps a quick retry from being refused as a replay.
            for _ in 0..<3 {
                try await unwind.setAutoRenew(domainID: account.domainID, resourceID: "sm-old-quota", enabled: false)
            }
            let ledger = simulator.handleAdmin(method: "GET", path: "/_sim/ledger", query: "account=prepaid-standard-old", body: [])
            let text = String(describing: ledger.body)
            #expect(ledger.status == 200 && text.contains("auto_renew_off"), "\(text)")
            #expect(!text.contains("replayed") && !text.contains("APIGW.0301"), "\(text)")
        }
    }
}

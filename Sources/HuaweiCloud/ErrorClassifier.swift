/// Decides retryable / already done / permanent for an error answer, and what the operator should do.
///
/// The table (kept in sync with docs/cloud-client.md):
///
/// | Answer | Classification |
/// |---|---|
/// | `CBC.30000067`, `CBC.3124` (already unsubscribed / deleted) | already done |
/// | `Ecs.0114`, `EndPoint.0005`, a SecMaster 404 with its own error body (not an `APIGW` one) — on a delete | already done |
/// | 429, `APIGW.0308` | retryable, after `Retry-After` (default 5 s: the docs advise 2–5 s) |
/// | `CBC.99003651`, `CBC.30050011`, `CBC.3144` (another operation in flight) | retryable |
/// | 5xx (but 501), 408, 409, `EndPoint.0001`, `Ecs.0002` | retryable |
/// | everything else (401/403 auth, 400 parameters, `CBC.30050010` unpaid order, …) | permanent, with a hint |
enum ErrorClassifier {
    enum Kind: Sendable {
        case read
        case delete
        /// A change that is not a delete (unsubscribe, auto-renew).
        case change
    }

    static let alreadyDoneCodes: Set<String> = ["CBC.30000067", "CBC.3124"]
    static let notFoundOnDeleteCodes: Set<String> = ["Ecs.0114", "EndPoint.0005"]
    static let inFlightCodes: Set<String> = ["CBC.99003651", "CBC.30050011", "CBC.3144"]
    static let transientCodes: Set<String> = ["EndPoint.0001", "Ecs.0002"]
    static let throttledCodes: Set<String> = ["APIGW.0308", "APIG.0308"]
    /// What the docs advise when a 429 carries no `Retry-After`.
    static let defaultThrottleWait: Duration = .seconds(5)

    static func classify(
        service: CloudService, kind: Kind, httpStatus: Int, code: String?, retryAfter: Duration?
    ) -> (CloudError.Classification, hint: String?) {
        let code = code ?? ""
        let isGateway = code.hasPrefix("APIGW.") || code.hasPrefix("APIG.")

        if alreadyDoneCodes.contains(code) { return (.alreadyDone, nil) }
        if kind == .delete {
            if notFoundOnDeleteCodes.contains(code) { return (.alreadyDone, nil) }
            // SecMaster's own 404 (an error body with its code); a proxy's HTML 404 says nothing about the resources.
            if service == .secmaster, httpStatus == 404, !code.isEmpty, !isGateway { return (.alreadyDone, nil) }
        }
        if httpStatus == 429 || throttledCodes.contains(code) {
            return (.retryable(retryAfter: retryAfter ?? defaultThrottleWait),
                    "the account is over the API rate limit; try again after a pause — if it persists, lower the worker concurrency")
        }
        if inFlightCodes.contains(code) {
            return (.retryable(retryAfter: retryAfter),
                    "another order or change on this resource is still in progress; try again once it finishes")
        }
        if transientCodes.contains(code) || (httpStatus >= 500 && httpStatus != 501) || httpStatus == 408 || httpStatus == 409 {
            return (.retryable(retryAfter: retryAfter), "a transient cloud-side failure; trying again may help")
        }
        return (.permanent, permanentHint(service: service, httpStatus: httpStatus, code: code, isGateway: isGateway))
    }

    static func permanentHint(service: CloudService, httpStatus: Int, code: String, isGateway: Bool) -> String {
        switch code {
        case "CBC.30050010":
            return "the resource is part of an unpaid order: pay or cancel that order in the Billing Center (Orders > Unpaid Orders), then submit the teardown again (a workflow that stopped before its point of no return was compensated and cannot be resumed)"
        case "CBC.30050009":
            return "BSS says the resource has expired and been deleted, or does not exist: check the id in the Billing Center; if the resource is gone, skip this step"
        case "CBC.99003652":
            return "this package cannot be unsubscribed through the API: unsubscribe it in the Billing Center console, then skip this step"
        case "CBC.0150", "CBC.0156":
            return "the account belongs to the other Huawei Cloud site: set the BSS endpoint (UNWIND_BSS_ENDPOINT) to https://bss-intl.myhuaweicloud.com for international accounts or https://bss.myhuaweicloud.com for Chinese ones"
        case "APIGW.0301", "APIG.0301":
            return "authentication failed: check the AK/SK of the credentials profile (key enabled, not deleted, security token not expired) and that this host's clock is within 15 minutes of UTC"
        case "APIGW.0302", "APIGW.0306", "APIG.0302", "APIG.0306":
            return "the credentials may not make this call: check that project_id and domain_id belong to the account of the credentials profile (another account's project is refused this way), then that its IAM user has permission for this API (the \(service.displayName) policies, and BSS Administrator for billing)"
        case "APIGW.0101", "APIG.0101":
            return "the API does not exist at this address: check the region and UNWIND_CLOUD_ENDPOINT"
        case "Ecs.0114":
            return "the server does not exist: check the server id"
        case "EndPoint.0005":
            return "the VPC endpoint does not exist: check the endpoint id"
        default:
            break
        }
        switch httpStatus {
        case 401:
            return "authentication failed: check the AK/SK of the credentials profile and the host clock"
        case 403:
            return "permission denied: check the IAM permissions of the user behind the credentials profile and that the project/account ids belong to it"
        case 404:
            return isGateway ? "the API was not found: check the region and UNWIND_CLOUD_ENDPOINT" : "the resource was not found: check the id in the workflow input"
        case 400, 422:
            return "the cloud rejected the request: check the workflow input; if it is right, report this message with its request id as a client bug"
        default:
            return "look the error code up in the \(service.displayName) error code reference; retrying will not help"
        }
    }
}

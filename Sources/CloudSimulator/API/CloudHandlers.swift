import Foundation

/// Dispatches a routed, authenticated request to the domain and renders the cloud's JSON.
///
/// Pure: it works on an `inout CloudState` and an explicit `now`, with no HTTP types, so every endpoint's status
/// codes and bodies can be tested directly as well as over loopback HTTP.
public enum CloudHandlers {
    public static func handle(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date, faults: HandlerFaults = HandlerFaults()) throws(CloudError) -> APIResult {
        switch request.api.service {
        case .bss: try BSSHandlers.handle(request, state: &state, account: a, now: now)
        case .ecs: try ECSHandlers.handle(request, state: &state, account: a, now: now, faults: faults)
        case .vpcep: try VPCEPHandlers.handle(request, state: &state, account: a, now: now)
        case .secmaster: try SecMasterHandlers.handle(request, state: &state, account: a, now: now)
        }
    }
}

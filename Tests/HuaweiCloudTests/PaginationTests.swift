@testable import HuaweiCloud
import Testing

@Suite("Listings")
struct PaginationTests {
    /// Offset paging over a list that grows between pages repeats an item. It is kept once: twice, the planner
    /// trapped on the duplicate key, and a teardown would have planned, counted and unsubscribed it twice.
    @Test func anItemRepeatedAcrossPagesIsKeptOnceAndOffsetsCountWhatWasFetched() async throws {
        let client = try TestSupport.client(baseURL: "http://127.0.0.1:9")
        let pages = [["a", "b"], ["b", "c"], ["d"]]
        var offsets: [Int] = []
        let request = CloudRequest(service: .secmaster, operation: "secmaster.list_workspaces", kind: .read, method: "GET", path: "/", scope: .project("p"))
        let items = try await client.paginate(request, pageSize: 2, key: { $0 }) { (page, offset) async throws(CloudError) -> (items: [String], total: Int?) in
            offsets.append(offset)
            return (pages[page], 5)
        }
        #expect(items == ["a", "b", "c", "d"])
        #expect(offsets == [0, 2, 4], "the next page starts after every item fetched, repeated or not")
    }

    /// A server that ignores the offset answers the first page again and again: the listing stops at the first
    /// full page that brings nothing new, with a message, instead of asking until the rate limit answers (1,461
    /// calls in 86 s).
    @Test func aListingWhosePagesStopAdvancingEnds() async throws {
        let client = try TestSupport.client(baseURL: "http://127.0.0.1:9")
        let request = CloudRequest(service: .secmaster, operation: "secmaster.list_subscriptions", kind: .read, method: "GET", path: "/", scope: .project("p"))
        var calls = 0
        let error = await TestSupport.cloudError { () async throws(CloudError) in
            _ = try await client.paginate(request, pageSize: 2, key: { $0 }) { (_, _) async throws(CloudError) -> (items: [String], total: Int?) in
                calls += 1
                return (["a", "b"], nil)
            }
        }
        #expect(calls == 2)
        #expect(error?.classification == .permanent && error?.message.contains("repeats items already listed") == true, "\(String(describing: error))")
    }
}

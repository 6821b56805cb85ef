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
}

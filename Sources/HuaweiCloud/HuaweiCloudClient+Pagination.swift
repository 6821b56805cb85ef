extension HuaweiCloudClient {
    /// Upper bound on pages per listing, so a cloud that keeps answering full pages cannot loop us forever.
    static let maxPages = 10_000

    /// Collects all pages of an offset/limit listing.
    ///
    /// `fetch(pageIndex, itemOffset)` returns one page and, when the API reports it, the total. Stops at an empty or
    /// short page, or once `total` items were collected. An item listed twice (offset paging over a list that
    /// changes between pages repeats one when another is added in front) is kept once, by `key`: a repeated
    /// resource would be planned, counted and unsubscribed twice.
    func paginate<Item>(
        _ request: CloudRequest, pageSize: Int, key: (Item) -> String,
        fetch: (_ pageIndex: Int, _ itemOffset: Int) async throws(CloudError) -> (items: [Item], total: Int?)
    ) async throws(CloudError) -> [Item] {
        var all: [Item] = []
        var seen: Set<String> = []
        var fetched = 0
        for pageIndex in 0..<Self.maxPages {
            let page = try await fetch(pageIndex, fetched)
            fetched += page.items.count
            let new = page.items.filter { seen.insert(key($0)).inserted }
            all += new
            if page.items.isEmpty || page.items.count < pageSize { return all }
            // A full page of items already listed: the server ignores the offset (a proxy, an API change), and asking
            // for the next page would only repeat it until the rate limit answers.
            if pageIndex > 0 && new.isEmpty {
                throw CloudError(
                    service: request.service, operation: request.operation,
                    message: "page \(pageIndex + 1) of the listing repeats items already listed (the offset \(fetched - page.items.count) seems to be ignored)",
                    classification: .permanent,
                    hint: "the answer does not page as the API documents: check UNWIND_CLOUD_ENDPOINT (a proxy in between?); report it with the operation name")
            }
            if let total = page.total, fetched >= total { return all }
        }
        throw CloudError(
            service: request.service, operation: request.operation,
            message: "the listing did not end after \(Self.maxPages) pages of \(pageSize)", classification: .permanent,
            hint: "the cloud keeps returning full pages; report this with the operation name"
        )
    }
}

import Foundation
import Synchronization

/// The append-only record of every mutating request, served at `/_sim/ledger`.
public final class Ledger: Sendable {
    private let entries = Mutex<[LedgerEntry]>([])

    public init() {}

    /// Appends an entry, assigning its sequence number; returns the stored entry.
    @discardableResult
    public func append(_ entry: LedgerEntry) -> LedgerEntry {
        entries.withLock { entries in
            var stored = entry
            stored.sequence = entries.count + 1
            entries.append(stored)
            return stored
        }
    }

    public func all() -> [LedgerEntry] { entries.withLock { $0 } }

    public func reset() { entries.withLock { $0.removeAll() } }
}

extension LedgerEntry {
    public var json: JSON {
        [
            "sequence": .int(Int64(sequence)),
            "time": .string(ISOTime.format(time)),
            "request_id": .string(requestID),
            "account": .string(account),
            "api": .string(api),
            "method": .string(method),
            "path": .string(path),
            "resource_ids": .array(resourceIDs.map(JSON.string)),
            "outcome": .string(outcome.rawValue),
            "changed": .bool(changed),
            "status": .int(Int64(status)),
            "error_code": .optional(errorCode),
            "effects": .array(effects.map { ["resource_id": .string($0.resourceID), "action": .string($0.action), "changed": .bool($0.changed)] }),
            "money": [
                "refund": .money(money.refundCents),
                "fee": .money(money.feeCents),
                "consumed": .money(money.consumedCents),
                "refund_cents": .int(money.refundCents),
                "fee_cents": .int(money.feeCents),
                "consumed_cents": .int(money.consumedCents),
                "full_refunds": .int(Int64(money.fullRefunds)),
            ],
            "references": .array(references.map(JSON.string)),
            "response_dropped": .bool(responseDropped),
            "note": .optional(note),
        ]
    }
}

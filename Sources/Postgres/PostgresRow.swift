import Foundation

/// The rows and row count of one statement, copied out of libpq's `PGresult` (which is freed at once).
public struct PostgresResult: Sendable {
    public let columns: PostgresColumns
    public let rows: [PostgresRow]
    /// Rows inserted/updated/deleted for DML, rows returned for SELECT.
    public let affectedRows: Int
    /// The command tag, e.g. `UPDATE 3`.
    public let commandTag: String

    public var first: PostgresRow? { rows.first }
    public var isEmpty: Bool { rows.isEmpty }
}

/// Column names and type OIDs of a result, shared by all its rows.
public final class PostgresColumns: Sendable {
    public let names: [String]
    public let typeOIDs: [UInt32]
    let statement: String?
    /// Rows are decoded by column name, several columns per row: one hash lookup instead of a scan of names.
    private let indexByName: [String: Int]

    init(names: [String], typeOIDs: [UInt32], statement: String?) {
        self.names = names
        self.typeOIDs = typeOIDs
        self.statement = statement
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexByName[name] == nil { indexByName[name] = index }
        self.indexByName = indexByName
    }

    /// The first column of that name. A short list is searched in order: comparing a few short names costs less
    /// than hashing the name, and rows are decoded column by column, by name, on the engine's hot path.
    @usableFromInline
    func index(of name: String) -> Int? {
        if names.count <= 24 { return names.firstIndex(of: name) }
        return indexByName[name]
    }
}

/// One row of a result, with values in PostgreSQL's text format and typed accessors.
public struct PostgresRow: Sendable {
    public let columns: PostgresColumns
    public let values: [String?]

    /// Decodes the named column. NULL decodes to `nil` for optional types and is an error otherwise.
    /// The error names the column, the Swift type asked for and the statement.
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        // Inlinable so that callers get it specialised for T: rows are decoded column by column on the hot path.
        guard let index = columns.index(of: column) else { throw missingColumn(column, T.self) }
        return try decode(index, as: type)
    }

    /// Decodes the column at `index` (0-based).
    @inlinable
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard index >= 0, index < values.count else { throw indexOutOfRange(index, T.self) }
        guard let text = values[index] else {
            if let null = T.decodeNull() { return null }
            throw unexpectedNull(index, T.self)
        }
        guard let value = T.decode(postgresText: text) else { throw invalidValue(index, text, T.self) }
        return value
    }

    @usableFromInline
    func missingColumn(_ column: String, _ type: Any.Type) -> PostgresError {
        PostgresError(
            code: .decoding,
            message: "column '\(column)' is not in the result (columns: \(columns.names.joined(separator: ", ")))",
            statement: columns.statement, column: column, expectedType: "\(type)")
    }

    @usableFromInline
    func indexOutOfRange(_ index: Int, _ type: Any.Type) -> PostgresError {
        PostgresError(
            code: .decoding, message: "column index \(index) is out of range (\(values.count) columns)",
            statement: columns.statement, column: name(at: index), expectedType: "\(type)")
    }

    @usableFromInline
    func unexpectedNull(_ index: Int, _ type: Any.Type) -> PostgresError {
        let name = name(at: index)
        return PostgresError(
            code: .decoding,
            message: "column '\(name)' is NULL but \(type) was expected (decode as \(type)? to allow NULL)",
            statement: columns.statement, column: name, expectedType: "\(type)")
    }

    @usableFromInline
    func invalidValue(_ index: Int, _ text: String, _ type: Any.Type) -> PostgresError {
        let name = name(at: index)
        return PostgresError(
            code: .decoding,
            message: "column '\(name)' holds \(Self.sample(text)), which is not a valid \(type)",
            statement: columns.statement, column: name, expectedType: "\(type)")
    }

    private func name(at index: Int) -> String {
        index >= 0 && index < columns.names.count ? columns.names[index] : "#\(index)"
    }

    /// Decodes a `json`/`jsonb` column into a `Decodable` type (NULL only for optional results via
    /// ``decodeJSONIfPresent(_:as:)``).
    public func decodeJSON<T: Decodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        let text: String = try decode(column)
        return try Self.decodeJSONText(text, as: type, column: column, statement: columns.statement)
    }

    public func decodeJSONIfPresent<T: Decodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T? {
        guard let text: String = try decode(column, as: String?.self) else { return nil }
        return try Self.decodeJSONText(text, as: type, column: column, statement: columns.statement)
    }

    /// True when the column is SQL NULL.
    public func isNull(_ column: String) -> Bool {
        guard let index = columns.index(of: column) else { return true }
        return values[index] == nil
    }

    static func decodeJSONText<T: Decodable>(
        _ text: String, as type: T.Type, column: String, statement: String?
    ) throws(PostgresError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: Data(text.utf8))
        } catch {
            throw PostgresError(
                code: .decoding,
                message: "column '\(column)' holds JSON that does not decode as \(T.self): \(Self.describe(error))",
                statement: statement, column: column, expectedType: "\(T.self)")
        }
    }

    static func sample(_ text: String) -> String {
        let limit = 40
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "'\(shown)'"
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key '\(path(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(let type, let context):
            return "expected \(type) at '\(path(context.codingPath))'"
        case DecodingError.valueNotFound(let type, let context):
            return "expected \(type) at '\(path(context.codingPath))' but found null"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

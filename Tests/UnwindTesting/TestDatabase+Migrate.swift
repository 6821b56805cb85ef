import Postgres
import UnwindStore

extension TestDatabase {
    public func migrate() throws {
        try Migrator.embedded().migrate(connection: try connect())
    }
}

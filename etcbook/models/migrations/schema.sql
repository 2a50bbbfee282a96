-- heads: audit_0001
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('audit_0001');
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	os_user VARCHAR NOT NULL, 
	entity VARCHAR NOT NULL, 
	entity_id INTEGER NOT NULL, 
	action VARCHAR NOT NULL, 
	field VARCHAR, 
	old_value VARCHAR, 
	new_value VARCHAR, 
	reason VARCHAR DEFAULT '' NOT NULL, db_user VARCHAR DEFAULT '' NOT NULL, 
	CONSTRAINT pk_audit_log PRIMARY KEY (id)
);
CREATE TABLE card_holders (
	card_id INTEGER NOT NULL, 
	db_role VARCHAR NOT NULL, 
	CONSTRAINT pk_card_holders PRIMARY KEY (card_id, db_role), 
	CONSTRAINT fk_card_holders_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE CASCADE
);
CREATE TABLE card_links (
	id INTEGER NOT NULL, 
	old_card_id INTEGER NOT NULL, 
	new_card_id INTEGER NOT NULL, 
	registered_at TEXT NOT NULL, 
	effective_at TEXT NOT NULL, 
	incident_id INTEGER, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_card_links PRIMARY KEY (id), 
	CONSTRAINT uq_card_links_old UNIQUE (old_card_id), 
	CONSTRAINT uq_card_links_new UNIQUE (new_card_id), 
	CONSTRAINT ck_card_links_distinct CHECK (old_card_id <> new_card_id), 
	CONSTRAINT fk_card_links_old_card_id_cards FOREIGN KEY(old_card_id) REFERENCES cards (id) ON DELETE RESTRICT, 
	CONSTRAINT fk_card_links_new_card_id_cards FOREIGN KEY(new_card_id) REFERENCES cards (id) ON DELETE RESTRICT, 
	CONSTRAINT fk_card_links_incident_id_incidents FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE TABLE card_stops (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	stopped BOOLEAN NOT NULL, 
	note VARCHAR DEFAULT '' NOT NULL, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_card_stops PRIMARY KEY (id), 
	CONSTRAINT fk_card_stops_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE cards (
	id INTEGER NOT NULL, 
	last4 VARCHAR(4) NOT NULL, 
	holder VARCHAR DEFAULT '' NOT NULL, 
	driver VARCHAR DEFAULT '' NOT NULL, 
	kind VARCHAR DEFAULT 'credit' NOT NULL, 
	expires VARCHAR, 
	mileage_id VARCHAR, 
	login_id VARCHAR, 
	last_login_on DATE, 
	obu_number VARCHAR, 
	plate VARCHAR, 
	household VARCHAR, 
	auto_exchange BOOLEAN DEFAULT 0 NOT NULL, 
	status VARCHAR DEFAULT 'active' NOT NULL, 
	notes VARCHAR DEFAULT '' NOT NULL, 
	created_at TEXT NOT NULL, department VARCHAR DEFAULT '' NOT NULL, version INTEGER DEFAULT '1' NOT NULL, label VARCHAR, 
	CONSTRAINT pk_cards PRIMARY KEY (id)
);
CREATE TABLE claim_file_chunks (
	claim_file_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	CONSTRAINT pk_claim_file_chunks PRIMARY KEY (claim_file_id, seq), 
	CONSTRAINT ck_claim_file_chunks_seq CHECK (seq >= 0), 
	CONSTRAINT fk_claim_file_chunks_claim_file_id_claim_files FOREIGN KEY(claim_file_id) REFERENCES claim_files (id)
);
CREATE TABLE claim_files (
	id INTEGER NOT NULL, 
	claim_id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	name VARCHAR NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	size INTEGER NOT NULL, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_claim_files PRIMARY KEY (id), 
	CONSTRAINT ck_claim_files_kind CHECK (kind IN ('pdf', 'csv', 'bundle', 'approved_pdf')), 
	CONSTRAINT ck_claim_files_size CHECK (size >= 0), 
	CONSTRAINT fk_claim_files_claim_id_claims FOREIGN KEY(claim_id) REFERENCES claims (id), 
	CONSTRAINT fk_claim_files_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id)
);
CREATE TABLE claim_trips (
	claim_id INTEGER NOT NULL, 
	trip_id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	toll INTEGER NOT NULL, 
	business_share INTEGER NOT NULL, 
	purpose VARCHAR DEFAULT '' NOT NULL, 
	amount INTEGER NOT NULL, 
	CONSTRAINT pk_claim_trips PRIMARY KEY (claim_id, trip_id), 
	CONSTRAINT fk_claim_trips_claim_id_claims FOREIGN KEY(claim_id) REFERENCES claims (id) ON DELETE CASCADE, 
	CONSTRAINT fk_claim_trips_trip_id_trips FOREIGN KEY(trip_id) REFERENCES trips (id) ON DELETE RESTRICT, 
	CONSTRAINT fk_claim_trips_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE claims (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	driver VARCHAR DEFAULT '' NOT NULL, 
	date_from DATE NOT NULL, 
	date_to DATE NOT NULL, 
	total INTEGER NOT NULL, 
	status VARCHAR NOT NULL, 
	submitted_at TEXT NOT NULL, 
	decided_by VARCHAR, 
	decided_at TEXT, 
	comment VARCHAR DEFAULT '' NOT NULL, 
	pdf_sha256 VARCHAR(64) DEFAULT '' NOT NULL, 
	csv_sha256 VARCHAR(64) DEFAULT '' NOT NULL, 
	bundle_sha256 VARCHAR(64) DEFAULT '' NOT NULL, 
	folder VARCHAR DEFAULT '' NOT NULL, version INTEGER DEFAULT '1' NOT NULL, 
	CONSTRAINT pk_claims PRIMARY KEY (id), 
	CONSTRAINT ck_claims_status CHECK (status IN ('submitted', 'approved', 'returned', 'withdrawn')), 
	CONSTRAINT fk_claims_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE closed_months (
	month VARCHAR(7) NOT NULL, 
	closed_at TEXT NOT NULL, 
	closed_by VARCHAR DEFAULT '' NOT NULL, 
	CONSTRAINT pk_closed_months PRIMARY KEY (month)
);
CREATE TABLE commute_pass_months (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_commute_pass_months PRIMARY KEY (id), 
	CONSTRAINT uq_commute_pass_month UNIQUE (card_id, month), 
	CONSTRAINT fk_commute_pass_months_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE data_version (
	id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_data_version PRIMARY KEY (id)
);
INSERT INTO "data_version" VALUES(1,1);
CREATE TABLE document_chunks (
	document_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	CONSTRAINT pk_document_chunks PRIMARY KEY (document_id, seq), 
	CONSTRAINT ck_document_chunks_seq CHECK (seq >= 0), 
	CONSTRAINT fk_document_chunks_document_id_documents FOREIGN KEY(document_id) REFERENCES documents (id)
);
CREATE TABLE documents (
	id INTEGER NOT NULL, 
	path VARCHAR NOT NULL, 
	original_name VARCHAR NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	size INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	card_last4 VARCHAR(4) NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	doc_date DATE, 
	amount INTEGER, 
	counterparty VARCHAR DEFAULT '' NOT NULL, 
	vehicle VARCHAR DEFAULT '' NOT NULL, 
	version INTEGER DEFAULT '1' NOT NULL, 
	supersedes_id INTEGER, 
	added_at TEXT NOT NULL, 
	added_by VARCHAR DEFAULT '' NOT NULL, 
	removed_at TEXT, 
	removed_by VARCHAR, 
	removed_reason VARCHAR, 
	trash_path VARCHAR, card_id INTEGER, 
	CONSTRAINT pk_documents PRIMARY KEY (id), 
	CONSTRAINT ck_documents_version CHECK (version >= 1), 
	CONSTRAINT ck_documents_size CHECK (size >= 0), 
	CONSTRAINT fk_documents_supersedes_id_documents FOREIGN KEY(supersedes_id) REFERENCES documents (id)
);
CREATE TABLE engine_cache (
	name VARCHAR NOT NULL, 
	"key" VARCHAR NOT NULL, 
	payload BLOB NOT NULL, 
	CONSTRAINT pk_engine_cache PRIMARY KEY (name)
);
CREATE TABLE import_batches (
	id INTEGER NOT NULL, 
	file_name VARCHAR NOT NULL, 
	sha256 VARCHAR NOT NULL, 
	imported_at TEXT NOT NULL, 
	rows INTEGER DEFAULT '0' NOT NULL, 
	inserted INTEGER DEFAULT '0' NOT NULL, 
	updated INTEGER DEFAULT '0' NOT NULL, 
	duplicates INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_import_batches PRIMARY KEY (id)
);
CREATE TABLE incident_contacts (
	id INTEGER NOT NULL, 
	incident_id INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	desk VARCHAR NOT NULL, 
	person VARCHAR DEFAULT '' NOT NULL, 
	reference VARCHAR DEFAULT '' NOT NULL, 
	summary VARCHAR DEFAULT '' NOT NULL, 
	recorded_at TEXT NOT NULL, 
	CONSTRAINT pk_incident_contacts PRIMARY KEY (id), 
	CONSTRAINT fk_incident_contacts_incident_id_incidents FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE TABLE incident_steps (
	id INTEGER NOT NULL, 
	incident_id INTEGER NOT NULL, 
	step VARCHAR NOT NULL, 
	at TEXT NOT NULL, 
	desk VARCHAR DEFAULT '' NOT NULL, 
	reference VARCHAR DEFAULT '' NOT NULL, 
	person VARCHAR DEFAULT '' NOT NULL, 
	details VARCHAR DEFAULT '{}' NOT NULL, 
	note VARCHAR DEFAULT '' NOT NULL, 
	recorded_at TEXT NOT NULL, 
	CONSTRAINT pk_incident_steps PRIMARY KEY (id), 
	CONSTRAINT fk_incident_steps_incident_id_incidents FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE TABLE incidents (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	noticed_at TEXT NOT NULL, 
	closed_at TEXT, 
	note VARCHAR DEFAULT '' NOT NULL, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_incidents PRIMARY KEY (id), 
	CONSTRAINT ck_incidents_kind CHECK (kind IN ('lost', 'stolen', 'damaged')), 
	CONSTRAINT fk_incidents_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE journal_export_trips (
	id INTEGER NOT NULL, 
	export_id INTEGER NOT NULL, 
	trip_id INTEGER NOT NULL, 
	amount INTEGER NOT NULL, 
	CONSTRAINT pk_journal_export_trips PRIMARY KEY (id), 
	CONSTRAINT fk_journal_export_trips_export_id_journal_exports FOREIGN KEY(export_id) REFERENCES journal_exports (id) ON DELETE CASCADE, 
	CONSTRAINT fk_journal_export_trips_trip_id_trips FOREIGN KEY(trip_id) REFERENCES trips (id) ON DELETE CASCADE
);
CREATE TABLE journal_exports (
	id INTEGER NOT NULL, 
	format VARCHAR NOT NULL, 
	encoding VARCHAR NOT NULL, 
	file VARCHAR NOT NULL, 
	exported_at TEXT NOT NULL, 
	date_from DATE NOT NULL, 
	date_to DATE NOT NULL, 
	entries INTEGER NOT NULL, 
	total INTEGER NOT NULL, 
	treatment VARCHAR NOT NULL, 
	CONSTRAINT pk_journal_exports PRIMARY KEY (id)
);
CREATE TABLE journal_settings (
	id INTEGER NOT NULL, 
	card_id INTEGER, 
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	CONSTRAINT pk_journal_settings PRIMARY KEY (id), 
	CONSTRAINT fk_journal_settings_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE CASCADE
);
CREATE TABLE mileage_adjustments (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	"on" DATE NOT NULL, 
	pool VARCHAR, 
	points INTEGER DEFAULT '0' NOT NULL, 
	rebate INTEGER DEFAULT '0' NOT NULL, 
	reason VARCHAR NOT NULL, 
	created_at TEXT NOT NULL, reversed_at TEXT, reversed_reason TEXT, 
	CONSTRAINT pk_mileage_adjustments PRIMARY KEY (id), 
	CONSTRAINT ck_mileage_adjustments_one_kind CHECK ((points != 0 AND pool IS NOT NULL AND rebate = 0) OR (rebate != 0 AND points = 0 AND pool IS NULL)), 
	CONSTRAINT fk_mileage_adjustments_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE passages (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	entry_at TEXT, 
	exit_at TEXT, 
	dated_at TEXT NOT NULL, 
	entry_ic VARCHAR, 
	exit_ic VARCHAR, 
	vehicle_class INTEGER, 
	vehicle_number VARCHAR, 
	remarks VARCHAR DEFAULT '' NOT NULL, 
	status VARCHAR, 
	flags VARCHAR DEFAULT '' NOT NULL, 
	operator VARCHAR DEFAULT 'nexco' NOT NULL, 
	operator_source VARCHAR DEFAULT 'default' NOT NULL, 
	trip_key VARCHAR NOT NULL, 
	seq INTEGER DEFAULT '0' NOT NULL, 
	batch_id INTEGER, 
	trip_id INTEGER, 
	CONSTRAINT pk_passages PRIMARY KEY (id), 
	CONSTRAINT uq_passages_identity UNIQUE (card_id, trip_key, seq), 
	CONSTRAINT fk_passages_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT, 
	CONSTRAINT fk_passages_batch_id_import_batches FOREIGN KEY(batch_id) REFERENCES import_batches (id), 
	CONSTRAINT fk_passages_trip_id_trips FOREIGN KEY(trip_id) REFERENCES trips (id) ON DELETE SET NULL
);
CREATE TABLE point_exchanges (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	pool VARCHAR NOT NULL, 
	units VARCHAR NOT NULL, 
	points INTEGER NOT NULL, 
	yen INTEGER NOT NULL, 
	created_at TEXT NOT NULL, reversed_at TEXT, reversed_reason TEXT, 
	CONSTRAINT pk_point_exchanges PRIMARY KEY (id), 
	CONSTRAINT ck_point_exchanges_positive CHECK (points > 0 AND yen > 0), 
	CONSTRAINT fk_point_exchanges_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE reconcile_reports (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	rebate_opening INTEGER, 
	rebate_closing INTEGER, 
	statement_total INTEGER, 
	points VARCHAR DEFAULT '{}' NOT NULL, 
	updated_at TEXT NOT NULL, 
	CONSTRAINT pk_reconcile_reports PRIMARY KEY (id), 
	CONSTRAINT uq_reconcile_reports_card_month UNIQUE (card_id, month), 
	CONSTRAINT fk_reconcile_reports_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE reconcile_snapshots (
	id INTEGER NOT NULL, 
	card_id INTEGER NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	marked_at TEXT NOT NULL, 
	document VARCHAR NOT NULL, 
	trips VARCHAR NOT NULL, 
	CONSTRAINT pk_reconcile_snapshots PRIMARY KEY (id), 
	CONSTRAINT fk_reconcile_snapshots_card_id_cards FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE RESTRICT
);
CREATE TABLE route_rules (
	id INTEGER NOT NULL, 
	entry_pattern VARCHAR, 
	exit_pattern VARCHAR NOT NULL, 
	operator VARCHAR, 
	morning_evening BOOLEAN, 
	created_at TEXT NOT NULL, 
	CONSTRAINT pk_route_rules PRIMARY KEY (id)
);
CREATE TABLE trip_history (
	id INTEGER NOT NULL, 
	trip_id INTEGER NOT NULL, 
	changed_at TEXT NOT NULL, 
	batch_id INTEGER, 
	old_values VARCHAR NOT NULL, 
	CONSTRAINT pk_trip_history PRIMARY KEY (id), 
	CONSTRAINT fk_trip_history_trip_id_trips FOREIGN KEY(trip_id) REFERENCES trips (id) ON DELETE CASCADE, 
	CONSTRAINT fk_trip_history_batch_id_import_batches FOREIGN KEY(batch_id) REFERENCES import_batches (id)
);
CREATE TABLE "trips" (
    id INTEGER NOT NULL PRIMARY KEY,
    card_id INTEGER NOT NULL REFERENCES cards (id) ON DELETE RESTRICT,
    entry_at TEXT,
    exit_at TEXT,
    entry_ic VARCHAR,
    exit_ic VARCHAR,
    toll_before_discount INTEGER,
    etc_discount INTEGER,
    toll INTEGER NOT NULL,
    rebate_applied INTEGER,
    deferred_toll INTEGER,
    vehicle_class INTEGER,
    vehicle_number VARCHAR,
    remarks VARCHAR DEFAULT '' NOT NULL,
    status VARCHAR,
    flags VARCHAR DEFAULT '' NOT NULL,
    morning_evening BOOLEAN DEFAULT 0 NOT NULL,
    operator VARCHAR DEFAULT 'nexco' NOT NULL,
    purpose VARCHAR DEFAULT '' NOT NULL,
    business_share INTEGER DEFAULT '0' NOT NULL,
    department VARCHAR DEFAULT '' NOT NULL,
    trip_key VARCHAR NOT NULL,
    seq INTEGER DEFAULT '0' NOT NULL,
    batch_id INTEGER REFERENCES import_batches (id),
    source VARCHAR DEFAULT 'import' NOT NULL,
    operator_source VARCHAR DEFAULT 'default' NOT NULL,
    dated_at TEXT GENERATED ALWAYS AS (coalesce(exit_at, entry_at)) VIRTUAL, version INTEGER DEFAULT '1' NOT NULL,
    CONSTRAINT uq_trips_identity UNIQUE (card_id, trip_key, seq),
    CONSTRAINT ck_trips_business_share CHECK (business_share BETWEEN 0 AND 100),
    CONSTRAINT ck_trips_dated CHECK (dated_at IS NOT NULL)
);
CREATE INDEX ix_import_batches_sha256 ON import_batches (sha256);
CREATE INDEX ix_trip_history_trip_id ON trip_history (trip_id);
CREATE INDEX ix_reconcile_snapshots_card_month ON reconcile_snapshots (card_id, month);
CREATE INDEX ix_incidents_card_id ON incidents (card_id);
CREATE INDEX ix_incident_steps_incident_id ON incident_steps (incident_id);
CREATE INDEX ix_incident_contacts_incident_id ON incident_contacts (incident_id);
CREATE UNIQUE INDEX ix_documents_path ON documents (path);
CREATE INDEX ix_documents_date ON documents (doc_date);
CREATE INDEX ix_documents_amount ON documents (amount);
CREATE INDEX ix_documents_counterparty ON documents (counterparty);
CREATE INDEX ix_documents_card_kind_month ON documents (card_last4, kind, month);
CREATE INDEX ix_documents_kind_month ON documents (kind, month);
CREATE INDEX ix_documents_sha256 ON documents (sha256);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_entity ON audit_log (entity, entity_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents BEGIN SELECT RAISE(ABORT, 'documents are marked removed, never deleted'); END;
CREATE INDEX ix_point_exchanges_card_at ON point_exchanges (card_id, at);
CREATE INDEX ix_card_stops_card_at ON card_stops (card_id, at);
CREATE INDEX ix_mileage_adjustments_card_on ON mileage_adjustments (card_id, "on");
CREATE INDEX ix_trips_dated ON trips (dated_at);
CREATE INDEX ix_trips_mileage ON trips (card_id, dated_at, id, toll, operator, morning_evening, rebate_applied, entry_at);
CREATE INDEX ix_passages_card_dated ON passages (card_id, dated_at);
CREATE INDEX ix_passages_trip ON passages (trip_id);
CREATE INDEX ix_journal_settings_card_key ON journal_settings (card_id, "key");
CREATE INDEX ix_journal_export_trips_trip ON journal_export_trips (trip_id);
CREATE INDEX ix_journal_export_trips_export ON journal_export_trips (export_id);
CREATE INDEX ix_card_holders_db_role ON card_holders (db_role);
CREATE INDEX ix_claims_card_status ON claims (card_id, status);
CREATE INDEX ix_claim_trips_trip ON claim_trips (trip_id);
CREATE INDEX ix_claim_trips_card ON claim_trips (card_id);
CREATE TRIGGER trips_closed_insert BEFORE INSERT ON trips WHEN EXISTS (SELECT 1 FROM closed_months WHERE month = substr(coalesce(NEW.exit_at, NEW.entry_at), 1, 7)) BEGIN SELECT RAISE(ABORT, 'etcbook:closed_month'); END;
CREATE TRIGGER trips_closed_update BEFORE UPDATE ON trips WHEN EXISTS (SELECT 1 FROM closed_months WHERE month = substr(coalesce(OLD.exit_at, OLD.entry_at), 1, 7)) OR EXISTS (SELECT 1 FROM closed_months WHERE month = substr(coalesce(NEW.exit_at, NEW.entry_at), 1, 7)) BEGIN SELECT RAISE(ABORT, 'etcbook:closed_month'); END;
CREATE TRIGGER trips_closed_delete BEFORE DELETE ON trips WHEN EXISTS (SELECT 1 FROM closed_months WHERE month = substr(coalesce(OLD.exit_at, OLD.entry_at), 1, 7)) BEGIN SELECT RAISE(ABORT, 'etcbook:closed_month'); END;
CREATE TRIGGER trips_approved_update BEFORE UPDATE ON trips WHEN EXISTS (SELECT 1 FROM claim_trips ct JOIN claims c ON c.id = ct.claim_id WHERE ct.trip_id = OLD.id AND c.status = 'approved') AND (NEW.purpose IS NOT OLD.purpose OR NEW.business_share IS NOT OLD.business_share OR NEW.toll IS NOT OLD.toll OR NEW.toll_before_discount IS NOT OLD.toll_before_discount OR NEW.etc_discount IS NOT OLD.etc_discount OR NEW.rebate_applied IS NOT OLD.rebate_applied OR NEW.deferred_toll IS NOT OLD.deferred_toll) BEGIN SELECT RAISE(ABORT, 'etcbook:approved_claim'); END;
CREATE TRIGGER trips_approved_delete BEFORE DELETE ON trips WHEN EXISTS (SELECT 1 FROM claim_trips ct JOIN claims c ON c.id = ct.claim_id WHERE ct.trip_id = OLD.id AND c.status = 'approved') BEGIN SELECT RAISE(ABORT, 'etcbook:approved_claim'); END;
CREATE TRIGGER trips_version AFTER UPDATE ON trips WHEN NEW.version = OLD.version BEGIN UPDATE trips SET version = OLD.version + 1 WHERE id = NEW.id; END;
CREATE TRIGGER cards_version AFTER UPDATE ON cards WHEN NEW.version = OLD.version BEGIN UPDATE cards SET version = OLD.version + 1 WHERE id = NEW.id; END;
CREATE TRIGGER claims_version AFTER UPDATE ON claims WHEN NEW.version = OLD.version BEGIN UPDATE claims SET version = OLD.version + 1 WHERE id = NEW.id; END;
CREATE UNIQUE INDEX ix_claim_files_claim_kind ON claim_files (claim_id, kind);
CREATE INDEX ix_claim_files_card ON claim_files (card_id);
CREATE TRIGGER document_chunks_no_update BEFORE UPDATE ON document_chunks BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE TRIGGER document_chunks_no_delete BEFORE DELETE ON document_chunks BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE TRIGGER claim_files_no_update BEFORE UPDATE ON claim_files BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE TRIGGER claim_files_no_delete BEFORE DELETE ON claim_files BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE TRIGGER claim_file_chunks_no_update BEFORE UPDATE ON claim_file_chunks BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE TRIGGER claim_file_chunks_no_delete BEFORE DELETE ON claim_file_chunks BEGIN SELECT RAISE(ABORT, 'etcbook:original_frozen'); END;
CREATE INDEX ix_cards_last4 ON cards (last4);
CREATE UNIQUE INDEX ix_cards_label ON cards (label);
CREATE TRIGGER import_audit AFTER INSERT ON import_batches BEGIN INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value, new_value, reason, db_user) VALUES (NEW.imported_at, '', 'import', NEW.id, 'import', 'null', json_object('file', NEW.file_name, 'sha256', NEW.sha256), '', ''); END;
CREATE INDEX ix_documents_card_id ON documents (card_id);

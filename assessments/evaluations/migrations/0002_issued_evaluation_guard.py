"""A database-level guard under the model's: an issued evaluation's row cannot be updated
and no test run can be added to it.

PostgreSQL also refuses deleting an issued evaluation or its test-run links (a database
flush truncates, which row triggers do not see). SQLite flushes row by row, so there only
updates and additions are refused here; deletes are refused by the model and by the
protecting foreign keys."""

from django.db import migrations

SQLITE = [
    (
        "CREATE TRIGGER evaluations_issued_no_update BEFORE UPDATE ON evaluations_evaluation "
        "FOR EACH ROW WHEN OLD.status = 'issued' "
        "BEGIN SELECT RAISE(ABORT, 'An issued evaluation cannot change.'); END;",
        "DROP TRIGGER IF EXISTS evaluations_issued_no_update;",
    ),
    (
        "CREATE TRIGGER evaluations_issued_runs_no_insert BEFORE INSERT "
        "ON evaluations_evaluation_test_runs FOR EACH ROW WHEN (SELECT status FROM "
        "evaluations_evaluation WHERE id = NEW.evaluation_id) = 'issued' "
        "BEGIN SELECT RAISE(ABORT, 'An issued evaluation cannot change.'); END;",
        "DROP TRIGGER IF EXISTS evaluations_issued_runs_no_insert;",
    ),
]

POSTGRES = [
    (
        """
        CREATE OR REPLACE FUNCTION evaluations_refuse_issued_change() RETURNS trigger AS $$
        BEGIN
            IF OLD.status = 'issued' THEN
                RAISE EXCEPTION 'An issued evaluation cannot change.';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER evaluations_issued_guard BEFORE UPDATE OR DELETE ON evaluations_evaluation
        FOR EACH ROW EXECUTE FUNCTION evaluations_refuse_issued_change();
        CREATE OR REPLACE FUNCTION evaluations_refuse_issued_runs_change() RETURNS trigger AS $$
        DECLARE
            evaluation_id bigint;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                evaluation_id := OLD.evaluation_id;
            ELSE
                evaluation_id := NEW.evaluation_id;
            END IF;
            IF (SELECT status FROM evaluations_evaluation WHERE id = evaluation_id) = 'issued'
            THEN
                RAISE EXCEPTION 'An issued evaluation cannot change.';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER evaluations_issued_runs_guard
        BEFORE INSERT OR UPDATE OR DELETE ON evaluations_evaluation_test_runs
        FOR EACH ROW EXECUTE FUNCTION evaluations_refuse_issued_runs_change();
        """,
        """
        DROP TRIGGER IF EXISTS evaluations_issued_runs_guard ON evaluations_evaluation_test_runs;
        DROP FUNCTION IF EXISTS evaluations_refuse_issued_runs_change();
        DROP TRIGGER IF EXISTS evaluations_issued_guard ON evaluations_evaluation;
        DROP FUNCTION IF EXISTS evaluations_refuse_issued_change();
        """,
    ),
]


def _statements(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        return SQLITE
    if vendor == "postgresql":
        return POSTGRES
    return []


def create_guard(apps, schema_editor):
    for forward, _ in _statements(schema_editor):
        schema_editor.execute(forward)


def drop_guard(apps, schema_editor):
    for _, backward in _statements(schema_editor):
        schema_editor.execute(backward)


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]

    operations = [migrations.RunPython(create_guard, drop_guard)]

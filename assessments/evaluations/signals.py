"""Signal handlers: the default index on every fresh install, and frozen test-run links."""

from django.db.models.signals import m2m_changed, pre_delete
from django.dispatch import receiver

from .models import Evaluation, Frozen


def load_default_index(sender, using="default", **kwargs):
    """After ``migrate``: load the shipped index if no index model exists yet."""
    from django.db import connections

    from .models import IndexModel
    from .yaml_io import load_default

    if IndexModel._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated only part of the way: the index tables do not exist yet
    if not IndexModel.objects.using(using).exists():
        load_default()


@receiver(m2m_changed, sender=Evaluation.test_runs.through)
def refuse_test_run_change_when_issued(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("pre_"):
        return
    if not reverse:
        touched = instance.stored_issued()
    elif pk_set is not None:  # from a test run's side: the evaluations named
        touched = Evaluation.objects.filter(pk__in=pk_set, status="issued").exists()
    else:  # a test run's links cleared
        touched = instance.evaluations.filter(status="issued").exists()
    if touched:
        raise Frozen("An issued evaluation's test runs cannot change.")


@receiver(pre_delete, sender=Evaluation)
def refuse_deleting_an_issued_evaluation(sender, instance, **kwargs):
    # Also reached by queryset deletes, which never call the model's delete().
    if instance.stored_issued():
        raise Frozen(f"{instance} is issued and cannot be deleted.")

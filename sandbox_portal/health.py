from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker():
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    else:
        folder = settings.BROKER_DIR / "queue"
        if not folder.is_dir():
            raise OSError(f"broker folder {folder} is missing")


def healthz(request):
    """200 with every part "ok", or 503 naming what is down."""
    checks = {"database": _database, "broker": _broker}
    body, healthy = {}, True
    for name, check in checks.items():
        try:
            check()
            body[name] = "ok"
        except Exception as exc:  # any failure of a dependency is reported, not raised
            body[name] = f"down: {exc.__class__.__name__}"
            healthy = False
    return JsonResponse(body, status=200 if healthy else 503)

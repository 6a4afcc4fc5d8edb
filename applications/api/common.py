"""What every API collection shares: pagination and scoping through queries.py."""

from rest_framework import viewsets
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class ScopedViewSet(viewsets.GenericViewSet):
    """A collection whose rows come from one ``queries.py`` function.

    ``scope`` is that function, as a staticmethod; ``model`` lets the
    schema generator work without a request. Objects outside the scope are
    not found (404), whatever their id.
    """

    scope = None
    model = None
    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.refine(self.scope(self.request.user))

    def refine(self, queryset):
        """Add what the serializer reads (select/prefetch) to the scoped queryset."""
        return queryset

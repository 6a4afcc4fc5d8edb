"""The firm's pages, the physical tier, the application form and documents."""

from django.urls import path

from . import content_views, firm_views


def _owned(kind, prefix, url):
    return [
        path(f"firm/{url}/", firm_views.owned_list, {"kind": kind}, name=kind),
        path(f"firm/{url}/new/", firm_views.owned_edit, {"kind": kind}, name=f"{prefix}-new"),
        path(
            f"firm/{url}/<int:pk>/edit/",
            firm_views.owned_edit,
            {"kind": kind},
            name=f"{prefix}-edit",
        ),
    ]


urlpatterns = [
    path("firm/", firm_views.firm_home, name="firm-home"),
    path("firms/", firm_views.firm_list, name="firm-list"),
    path("firms/<int:pk>/", firm_views.firm_detail, name="firm-detail"),
    path("firm/members/", firm_views.members, name="members"),
    path("firm/members/invite/", firm_views.member_invite, name="member-invite"),
    path("firm/members/<int:pk>/remove/", firm_views.member_remove, name="member-remove"),
    *_owned("projects", "project", "projects"),
    *_owned("nodes", "node", "nodes"),
    *_owned("personnel", "personnel", "personnel"),
    *_owned("zone-registrations", "zone-registration", "zones"),
    path("cases/new/", content_views.application_new, name="application-new"),
    path("cases/<int:pk>/edit/", content_views.application_edit, name="application-edit"),
    path(
        "cases/<int:pk>/documents/new/",
        content_views.document_upload,
        name="document-upload",
    ),
    path(
        "documents/<int:pk>/download/",
        content_views.document_download,
        name="document-download",
    ),
]

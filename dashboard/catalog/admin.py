"""The catalog in the admin: items (edited on your branch), branches (create, switch, merge,
delete, diff against main) and the commit log. Every version-control step goes through
dashboard.catalog.versions."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dashboard.catalog import versions
from dashboard.catalog.middleware import author
from dashboard.catalog.models import Branch, Commit, Item
from dashboard.catalog.selectors import CatalogRequest, checked_out_branches
from dashboard.catalog.services import switch_branch

if TYPE_CHECKING:  # django-stubs-ext is a type-checking requirement only
    from django_stubs_ext import WithAnnotations

MERGE_INTO_MAIN = "dashboard.merge_into_main"
NO_MERGE_INTO_MAIN = (
    "Merging into main needs the permission “Can merge catalog branches into main”; ask an "
    "administrator, or merge into a branch of your own."
)


def changed_cells(change: versions.RowChange) -> list[tuple[str, Any, Any]]:
    """[(column, on main, on the branch)] of a row change's changed columns."""
    before, after = change.before or {}, change.after or {}
    return [(column, before.get(column), after.get(column)) for column in change.changed_columns]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["itemid", "name", "category"]
    list_filter = ["category"]
    search_fields = ["name", "=itemid"]


class NewBranchForm(forms.ModelForm):
    start = forms.ChoiceField(
        label="Start from", help_text="The new branch starts from this branch's last commit."
    )

    class Meta:
        model = Branch
        fields = ["name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        start = cast(forms.ChoiceField, self.fields["start"])
        start.choices = [(name, name) for name in versions.branch_names()]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            versions.valid_branch_name(name)
        except versions.VersionError as error:
            raise forms.ValidationError(str(error)) from None
        return name

    def validate_unique(self) -> None:
        pass  # create_branch says so when the name is taken


class BranchAnnotations(TypedDict):
    is_yours: bool  # annotated by BranchAdmin.get_queryset


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    """Branches of the item catalog. Changes go through dashboard.catalog.versions."""

    list_display = [
        "name",
        "yours",
        "latest_commit_message",
        "latest_committer",
        "latest_commit_date",
        "diff",
    ]
    actions = ["switch_to", "merge_into_yours", "delete_branches"]
    form = NewBranchForm

    @admin.display(description="Yours")
    def yours(self, branch: "WithAnnotations[Branch, BranchAnnotations]") -> str:
        return "✔ current" if branch.is_yours else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Branch]:
        # The middleware has checked out this session's branch on the catalog connection.
        return super().get_queryset(request).annotate(is_yours=RawSQL("name = active_branch()", ()))

    @admin.display(description="Against main")
    def diff(self, branch: Branch) -> SafeString:
        url = reverse("admin:dashboard_branch_diff", args=[branch.name])
        return format_html('<a href="{}">diff</a>', url)

    def get_actions(self, request: HttpRequest) -> dict[str, tuple[Callable[..., str], str, str] | None]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request: HttpRequest, obj: Branch | None = None) -> bool:
        return False  # a branch is created, switched to, merged or deleted, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Branch | None = None) -> bool:
        return request.user.has_perm("dashboard.delete_branch")

    def save_model(self, request: HttpRequest, obj: Branch, form: NewBranchForm, change: bool) -> None:
        versions.create_branch(obj.name, start=form.cleaned_data["start"])

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except versions.VersionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:dashboard_branch_add")

    def _one(self, request: HttpRequest, queryset: QuerySet[Branch], verb: str) -> str | None:
        if queryset.count() != 1:
            self.message_user(request, f"Select exactly one branch to {verb}.", messages.WARNING)
            return None
        return queryset.get().name

    @admin.action(description="Switch to the selected branch")
    def switch_to(self, request: HttpRequest, queryset: QuerySet[Branch]) -> None:
        name = self._one(request, queryset, "switch to")
        if name:
            switch_branch(request, name)
            self.message_user(request, f"You now work on {name}: the dashboard and the catalog show it.")

    @admin.action(description="Merge the selected branch into yours")
    def merge_into_yours(self, request: CatalogRequest, queryset: QuerySet[Branch]) -> None:
        name = self._one(request, queryset, "merge")
        if not name:
            return
        into = request.catalog_branch
        if into == versions.MAIN and not request.user.has_perm(MERGE_INTO_MAIN):
            self.message_user(request, NO_MERGE_INTO_MAIN, messages.ERROR)
            return
        try:
            head = versions.merge(name, author(request.user))
        except versions.MergeConflicts as conflicts:
            for conflict in conflicts.conflicts:
                details = "; ".join(
                    f"{column}: was {base!r}, {into} has {ours!r}, {name} has {theirs!r}"
                    for column, base, ours, theirs in conflict.columns
                )
                self.message_user(
                    request, f"Conflict in {conflict.table} {conflict.key}: {details}", messages.ERROR
                )
            self.message_user(request, str(conflicts), messages.ERROR)
            return
        except versions.VersionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"Merged {name} into {into} (commit {head[:8]}).")

    @admin.action(description="Delete the selected branches", permissions=["delete"])
    def delete_branches(self, request: CatalogRequest, queryset: QuerySet[Branch]) -> None:
        busy = checked_out_branches() | {request.catalog_branch}
        for name in list(queryset.values_list("name", flat=True)):
            try:
                versions.delete_branch(name, checked_out=busy)
            except versions.VersionError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"Deleted {name}.")

    def get_urls(self) -> list[URLPattern]:
        diff = self.admin_site.admin_view(self.diff_view)
        return [path("<path:name>/diff/", diff, name="dashboard_branch_diff"), *super().get_urls()]

    def diff_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changes = versions.diff(name)
        except versions.VersionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:dashboard_branch_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{name} against main",
            "branch": name,
            "changes": [(change, changed_cells(change)) for change in changes],
        }
        return TemplateResponse(request, "admin/dashboard/branch_diff.html", context)


@admin.register(Commit)
class CommitAdmin(admin.ModelAdmin):
    """The commit log of the branch this session works on, newest first."""

    list_display = ["short_hash", "message", "committer", "date"]
    search_fields = ["message", "committer"]

    @admin.display(description="Commit")
    def short_hash(self, commit: Commit) -> str:
        return commit.commit_hash[:8]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commit]:
        return super().get_queryset(request).order_by()  # Dolt's own order: newest first

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Commit | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Commit | None = None) -> bool:
        return False

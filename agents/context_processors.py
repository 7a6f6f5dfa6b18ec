from .roles import Role, roles_of


def roles(request):
    """The current user's roles, for the navigation of the layout."""
    user_roles = roles_of(request.user) if hasattr(request, "user") else frozenset()
    return {"user_roles": user_roles, "Role": Role}

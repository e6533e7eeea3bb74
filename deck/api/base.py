"""What every endpoint of the API shares."""

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView


class Api(APIView):
    # JSON bodies only. Form encodings make every value a string, and DRF
    # then reads "0" as false and 5 as text: inputs the schema calls invalid
    # would be accepted.
    parser_classes = [JSONParser]


# Exempt: it changes nothing, and a POST to an address missing its slash
# deserves the same JSON hint as a GET, not an HTML CSRF refusal.
@csrf_exempt
def not_found(request, path: str = ""):
    """Anything else under /api/: a JSON 404, as API clients expect, rather
    than the site's HTML page. Matching everything also stops Django from
    redirecting to the address with a slash, so the answer names it."""
    detail = "No such API endpoint."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail += f" Did you mean {request.path}/ ?"
    return JsonResponse({"detail": detail}, status=404)

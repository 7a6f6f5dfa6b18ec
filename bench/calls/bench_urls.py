"""The product's URLs plus the benchmark's baseline: a plain authenticated DRF endpoint that
inserts one row (the yardstick the routing rate is compared with)."""

from django.db import connection
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.urls import urlpatterns as product_urlpatterns


class PlainInsertApi(APIView):
    """Token-authenticated (the project's default DRF authentication and permission), one INSERT."""

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_calls_insert (user_id, body) VALUES (%s, %s) RETURNING id",
                [request.user.pk, request.body.decode()],
            )
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=201)


urlpatterns = [path("bench/insert/", PlainInsertApi.as_view()), *product_urlpatterns]

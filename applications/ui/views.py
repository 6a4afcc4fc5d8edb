from django.http import HttpResponse


def dashboard(request):
    return HttpResponse("Sandbox Portal")


def case_detail(request, pk):
    return HttpResponse("case")

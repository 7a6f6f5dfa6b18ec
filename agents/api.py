from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .models import Agent, AgentSkill


class AgentSkillSerializer(serializers.ModelSerializer):
    skill = serializers.CharField(source="skill.name")

    class Meta:
        model = AgentSkill
        fields = ["skill", "level"]


class AgentSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    team = serializers.CharField(source="team.name", default=None)
    supervisor = serializers.CharField(source="supervisor.username", default=None)
    skills = AgentSkillSerializer(source="skill_levels", many=True)
    languages = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Agent
        fields = [
            "id",
            "employee_number",
            "username",
            "full_name",
            "team",
            "supervisor",
            "skills",
            "languages",
            "hire_date",
            "employment_status",
            "contract_type",
            "calls_per_day_target",
            "aht_target_s",
            "work_mode",
        ]
        read_only_fields = fields


def _agents_for(user):
    return selectors.agents_for_user(user=user).prefetch_related("languages", "skill_levels__skill")


class AgentListApi(generics.ListAPIView):
    """Agents the caller may see (own profile; a supervisor's teams; HR and managers all)."""

    serializer_class = AgentSerializer
    queryset = Agent.objects.none()  # for the schema; requests use get_queryset's scope
    filterset_fields = ["team", "employment_status", "contract_type"]

    def get_queryset(self):
        return _agents_for(self.request.user)


class AgentDetailApi(generics.RetrieveAPIView):
    serializer_class = AgentSerializer
    queryset = Agent.objects.none()  # for the schema; requests use get_queryset's scope

    def get_queryset(self):
        return _agents_for(self.request.user)


class MeApi(APIView):
    """The caller's own agent profile."""

    @extend_schema(responses=AgentSerializer)
    def get(self, request):
        agent = generics.get_object_or_404(_agents_for(request.user), user=request.user)
        return Response(AgentSerializer(agent).data)

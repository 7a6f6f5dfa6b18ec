from datetime import date

import factory
from django.contrib.auth.models import Group

from agents.models import Agent, Language, Skill, Team, TrainingCourse, TrainingRecord, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            from agents.services import user_set_roles

            user_set_roles(user=self, roles=list(extracted))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.INBOUND
    supervisor = factory.SubFactory(UserFactory, roles=["supervisor"])


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Skill {n}")


class LanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Language
        django_get_or_create = ("code",)

    code = "fr"
    name = "Français"


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=["agent"])
    employee_number = factory.Sequence(lambda n: f"T{n:05d}")
    team = factory.SubFactory(TeamFactory)
    supervisor = factory.LazyAttribute(lambda a: a.team.supervisor if a.team else None)
    hire_date = date(2024, 1, 15)

    @factory.post_generation
    def languages(self, create, extracted, **kwargs):
        if create:
            self.languages.set([LanguageFactory(code=c, name=c) for c in (extracted or ["fr"])])


class TrainingCourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingCourse
        django_get_or_create = ("title",)

    title = factory.Sequence(lambda n: f"Course {n}")


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    agent = factory.SubFactory(AgentFactory)
    course = factory.SubFactory(TrainingCourseFactory)
    date = date(2025, 3, 1)
    score = 80
    passed = True


def role_group(name: str) -> Group:
    return Group.objects.get(name=name)

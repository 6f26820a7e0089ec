import factory

from atiende.users.models import Role, Team, User

PASSWORD = "clave-segura-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agente{n}")
    display_name = factory.Faker("name", locale="es_ES")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.AGENT

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Equipo {n}")

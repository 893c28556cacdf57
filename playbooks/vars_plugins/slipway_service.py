"""Ansible vars plugin: `slipway_service`, the app definition read and checked by ops.service.

Every playbook of this directory gets the service as one variable for the group `all`, however
ansible-playbook is started; group_vars/all.yml maps it onto the roles. The definition is
app/slipway.yml unless SLIPWAY_APP_DEFINITION names another file.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible.inventory.group import Group
from ansible.plugins.vars import BaseVarsPlugin

from ops.errors import OpsError
from ops.service.ansible import service_vars
from ops.service.load import load

DOCUMENTATION = """
    name: slipway_service
    short_description: the app definition as the variable slipway_service
    description: Reads the app definition (SLIPWAY_APP_DEFINITION or app/slipway.yml) once per run.
    options:
      stage:
        ini:
          - key: stage
            section: vars_slipway_service
        env:
          - name: ANSIBLE_VARS_PLUGIN_STAGE
    extends_documentation_fragment:
      - vars_plugin_staging
"""


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = True
    _service: dict[str, Any] | None = None

    def get_vars(self, loader: Any, path: str, entities: Any, cache: bool = True) -> dict[str, Any]:  # noqa: ARG002 - Ansible calls it so
        super().get_vars(loader, path, entities)
        entities = entities if isinstance(entities, list) else [entities]
        if not any(isinstance(entity, Group) and entity.name == "all" for entity in entities):
            return {}
        if VarsModule._service is None:
            try:
                VarsModule._service = service_vars(load())
            except OpsError as error:
                raise AnsibleError(error.render()) from None
        return {"slipway_service": VarsModule._service}

"""Network incidents (across tenants, with their services and tickets), the Sonata attributes
kept beside a ticket, and the listener path a Sonata hub delivery is posted to.

Revision ID: 0012_sonata_incidents
Revises: 0014_attachments
Create Date: 2026-12-01 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012_sonata_incidents'
down_revision: str | Sequence[str] | None = '0014_attachments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('incident_number_seq', start=1)))
    op.create_table('incidents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('impact', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expected_end_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('declared_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('number', name=op.f('uq_incidents_number'))
    )
    op.create_index('ix_incidents_updated_at_id', 'incidents', ['updated_at', 'id'], unique=False)
    op.create_table('incident_services',
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_incident_services_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_services_incident_id_incidents')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_incident_services_service_id_services')),
    sa.PrimaryKeyConstraint('incident_id', 'service_id', name=op.f('pk_incident_services'))
    )
    op.create_index(op.f('ix_incident_services_enterprise_id'), 'incident_services', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_incident_services_service_id'), 'incident_services', ['service_id'], unique=False)
    op.create_table('incident_tickets',
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('ticket_id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_incident_tickets_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_tickets_incident_id_incidents')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_incident_tickets_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('incident_id', 'ticket_id', name=op.f('pk_incident_tickets'))
    )
    op.create_index(op.f('ix_incident_tickets_enterprise_id'), 'incident_tickets', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_incident_tickets_ticket_id'), 'incident_tickets', ['ticket_id'], unique=False)
    op.create_table('sonata_ticket_attributes',
    sa.Column('ticket_id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('ticket_type', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('observed_impact', sa.String(length=16), nullable=False),
    sa.Column('contacts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('issue_start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_stage', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_sonata_ticket_attributes_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sonata_ticket_attributes_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_sonata_ticket_attributes'))
    )
    op.create_index(op.f('ix_sonata_ticket_attributes_enterprise_id'), 'sonata_ticket_attributes', ['enterprise_id'], unique=False)
    op.add_column('webhook_deliveries', sa.Column('listener_path', sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column('webhook_deliveries', 'listener_path')
    op.drop_index(op.f('ix_sonata_ticket_attributes_enterprise_id'), table_name='sonata_ticket_attributes')
    op.drop_table('sonata_ticket_attributes')
    op.drop_index(op.f('ix_incident_tickets_ticket_id'), table_name='incident_tickets')
    op.drop_index(op.f('ix_incident_tickets_enterprise_id'), table_name='incident_tickets')
    op.drop_table('incident_tickets')
    op.drop_index(op.f('ix_incident_services_service_id'), table_name='incident_services')
    op.drop_index(op.f('ix_incident_services_enterprise_id'), table_name='incident_services')
    op.drop_table('incident_services')
    op.drop_index('ix_incidents_updated_at_id', table_name='incidents')
    op.drop_table('incidents')
    op.execute(sa.schema.DropSequence(sa.Sequence('incident_number_seq')))

"""Contains all the data models used in inputs/outputs"""

from .api_key_admin_read import ApiKeyAdminRead
from .api_key_create import ApiKeyCreate
from .api_key_created import ApiKeyCreated
from .api_key_read import ApiKeyRead
from .audit_read import AuditRead
from .audit_read_changes import AuditReadChanges
from .body_auth_login import BodyAuthLogin
from .code_confirm import CodeConfirm
from .cursor_page_audit_read import CursorPageAuditRead
from .cursor_page_failed_job_read import CursorPageFailedJobRead
from .cursor_page_message_read import CursorPageMessageRead
from .cursor_page_request_log_read import CursorPageRequestLogRead
from .cursor_page_thread_read import CursorPageThreadRead
from .email_change_request import EmailChangeRequest
from .email_request import EmailRequest
from .enqueued import Enqueued
from .enrolment import Enrolment
from .enrolment_start import EnrolmentStart
from .event_page import EventPage
from .event_page_items_item import EventPageItemsItem
from .exchange_request import ExchangeRequest
from .failed_job_read import FailedJobRead
from .failed_job_read_arguments import FailedJobReadArguments
from .field_error import FieldError
from .file_download import FileDownload
from .file_read import FileRead
from .file_status import FileStatus
from .file_summary import FileSummary
from .health_live_response_health_live import HealthLiveResponseHealthLive
from .identity_read import IdentityRead
from .invitation_accept import InvitationAccept
from .invitation_create import InvitationCreate
from .invitation_read import InvitationRead
from .jobs_status import JobsStatus
from .link_request import LinkRequest
from .link_start import LinkStart
from .mail_accepted import MailAccepted
from .me_update import MeUpdate
from .me_updated import MeUpdated
from .member_read import MemberRead
from .member_update import MemberUpdate
from .member_user import MemberUser
from .message_create import MessageCreate
from .message_read import MessageRead
from .message_update import MessageUpdate
from .mfa_verify import MfaVerify
from .new_recovery_codes import NewRecoveryCodes
from .offset_page_api_key_admin_read import OffsetPageApiKeyAdminRead
from .offset_page_api_key_read import OffsetPageApiKeyRead
from .offset_page_identity_read import OffsetPageIdentityRead
from .offset_page_invitation_read import OffsetPageInvitationRead
from .offset_page_member_read import OffsetPageMemberRead
from .offset_page_organization_read import OffsetPageOrganizationRead
from .offset_page_user_admin_read import OffsetPageUserAdminRead
from .organization_create import OrganizationCreate
from .organization_read import OrganizationRead
from .organization_role import OrganizationRole
from .organization_update import OrganizationUpdate
from .ownership_transfer import OwnershipTransfer
from .participant_read import ParticipantRead
from .participants_add import ParticipantsAdd
from .password_reset_confirm import PasswordResetConfirm
from .problem import Problem
from .provider_read import ProviderRead
from .read_marker import ReadMarker
from .read_state import ReadState
from .refresh_request import RefreshRequest
from .request_log_read import RequestLogRead
from .role import Role
from .scope import Scope
from .scopes_update import ScopesUpdate
from .stream_page import StreamPage
from .stream_page_items_item import StreamPageItemsItem
from .superuser_create import SuperuserCreate
from .thread_create import ThreadCreate
from .thread_read import ThreadRead
from .thread_update import ThreadUpdate
from .ticket_create import TicketCreate
from .ticket_create_resume import TicketCreateResume
from .ticket_read import TicketRead
from .token_confirm import TokenConfirm
from .token_response import TokenResponse
from .two_factor_status import TwoFactorStatus
from .upload_create import UploadCreate
from .upload_form_read import UploadFormRead
from .upload_form_read_fields import UploadFormReadFields
from .upload_started import UploadStarted
from .user_admin_read import UserAdminRead
from .user_admin_update import UserAdminUpdate
from .user_read import UserRead
from .user_register import UserRegister

__all__ = (
    "ApiKeyAdminRead",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyRead",
    "AuditRead",
    "AuditReadChanges",
    "BodyAuthLogin",
    "CodeConfirm",
    "CursorPageAuditRead",
    "CursorPageFailedJobRead",
    "CursorPageMessageRead",
    "CursorPageRequestLogRead",
    "CursorPageThreadRead",
    "EmailChangeRequest",
    "EmailRequest",
    "Enqueued",
    "Enrolment",
    "EnrolmentStart",
    "EventPage",
    "EventPageItemsItem",
    "ExchangeRequest",
    "FailedJobRead",
    "FailedJobReadArguments",
    "FieldError",
    "FileDownload",
    "FileRead",
    "FileStatus",
    "FileSummary",
    "HealthLiveResponseHealthLive",
    "IdentityRead",
    "InvitationAccept",
    "InvitationCreate",
    "InvitationRead",
    "JobsStatus",
    "LinkRequest",
    "LinkStart",
    "MailAccepted",
    "MemberRead",
    "MemberUpdate",
    "MemberUser",
    "MessageCreate",
    "MessageRead",
    "MessageUpdate",
    "MeUpdate",
    "MeUpdated",
    "MfaVerify",
    "NewRecoveryCodes",
    "OffsetPageApiKeyAdminRead",
    "OffsetPageApiKeyRead",
    "OffsetPageIdentityRead",
    "OffsetPageInvitationRead",
    "OffsetPageMemberRead",
    "OffsetPageOrganizationRead",
    "OffsetPageUserAdminRead",
    "OrganizationCreate",
    "OrganizationRead",
    "OrganizationRole",
    "OrganizationUpdate",
    "OwnershipTransfer",
    "ParticipantRead",
    "ParticipantsAdd",
    "PasswordResetConfirm",
    "Problem",
    "ProviderRead",
    "ReadMarker",
    "ReadState",
    "RefreshRequest",
    "RequestLogRead",
    "Role",
    "Scope",
    "ScopesUpdate",
    "StreamPage",
    "StreamPageItemsItem",
    "SuperuserCreate",
    "ThreadCreate",
    "ThreadRead",
    "ThreadUpdate",
    "TicketCreate",
    "TicketCreateResume",
    "TicketRead",
    "TokenConfirm",
    "TokenResponse",
    "TwoFactorStatus",
    "UploadCreate",
    "UploadFormRead",
    "UploadFormReadFields",
    "UploadStarted",
    "UserAdminRead",
    "UserAdminUpdate",
    "UserRead",
    "UserRegister",
)

"""Contains all the data models used in inputs/outputs"""

from .api_key import ApiKey
from .api_key_page import ApiKeyPage
from .change import Change
from .change_document_type_1 import ChangeDocumentType1
from .change_kind import ChangeKind
from .change_op import ChangeOp
from .change_page import ChangePage
from .check import Check
from .check_status import CheckStatus
from .checks import Checks
from .create_entities_batch_body import CreateEntitiesBatchBody
from .create_entities_batch_body_on_conflict import CreateEntitiesBatchBodyOnConflict
from .create_entities_batch_response_200 import CreateEntitiesBatchResponse200
from .create_entities_batch_response_200_outcomes_item import (
    CreateEntitiesBatchResponse200OutcomesItem,
)
from .create_entities_batch_response_201 import CreateEntitiesBatchResponse201
from .create_entities_batch_response_201_outcomes_item import (
    CreateEntitiesBatchResponse201OutcomesItem,
)
from .create_relationships_batch_body import CreateRelationshipsBatchBody
from .create_relationships_batch_body_on_conflict import (
    CreateRelationshipsBatchBodyOnConflict,
)
from .create_relationships_batch_response_200 import CreateRelationshipsBatchResponse200
from .create_relationships_batch_response_200_outcomes_item import (
    CreateRelationshipsBatchResponse200OutcomesItem,
)
from .create_relationships_batch_response_201 import CreateRelationshipsBatchResponse201
from .create_relationships_batch_response_201_outcomes_item import (
    CreateRelationshipsBatchResponse201OutcomesItem,
)
from .create_session_data_body import CreateSessionDataBody
from .create_session_data_body_grant_type import CreateSessionDataBodyGrantType
from .create_token_data_body import CreateTokenDataBody
from .create_token_data_body_grant_type import CreateTokenDataBodyGrantType
from .created_api_key import CreatedApiKey
from .credentials import Credentials
from .duplicate import Duplicate
from .duplicate_page import DuplicatePage
from .embedding import Embedding
from .embedding_batch import EmbeddingBatch
from .embedding_batch_items_item import EmbeddingBatchItemsItem
from .embedding_batch_result import EmbeddingBatchResult
from .embedding_batch_result_items_item import EmbeddingBatchResultItemsItem
from .embedding_page import EmbeddingPage
from .embedding_put import EmbeddingPut
from .embedding_space import EmbeddingSpace
from .embedding_space_definition import EmbeddingSpaceDefinition
from .embedding_space_definition_distance import EmbeddingSpaceDefinitionDistance
from .embedding_space_distance import EmbeddingSpaceDistance
from .embedding_space_list import EmbeddingSpaceList
from .entity import Entity
from .entity_metadata import EntityMetadata
from .entity_page import EntityPage
from .entity_patch import EntityPatch
from .entity_put import EntityPut
from .entity_ref import EntityRef
from .export_graph_format import ExportGraphFormat
from .export_graph_response_200 import ExportGraphResponse200
from .get_entity_response_308 import GetEntityResponse308
from .get_health_response_503 import GetHealthResponse503
from .get_live_response_200 import GetLiveResponse200
from .get_neighbors_direction import GetNeighborsDirection
from .get_open_api_response_200 import GetOpenApiResponse200
from .get_path_direction import GetPathDirection
from .get_ready_response_503 import GetReadyResponse503
from .graph import Graph
from .graph_node_ref import GraphNodeRef
from .graph_nodes_item_type_0 import GraphNodesItemType0
from .health import Health
from .health_components_item import HealthComponentsItem
from .jwks import Jwks
from .jwks_keys_item import JwksKeysItem
from .list_entities_sort import ListEntitiesSort
from .list_relationships_sort import ListRelationshipsSort
from .merge_request import MergeRequest
from .merge_request_metadata import MergeRequestMetadata
from .metadata import Metadata
from .new_api_key import NewApiKey
from .new_entity import NewEntity
from .new_relationship import NewRelationship
from .new_user import NewUser
from .principal import Principal
from .principal_credential import PrincipalCredential
from .principal_sign_in_failures import PrincipalSignInFailures
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .readiness import Readiness
from .refresh_request import RefreshRequest
from .refresh_request_grant_type import RefreshRequestGrantType
from .refresh_token_data_body import RefreshTokenDataBody
from .refresh_token_data_body_grant_type import RefreshTokenDataBodyGrantType
from .relationship import Relationship
from .relationship_metadata import RelationshipMetadata
from .relationship_page import RelationshipPage
from .relationship_patch import RelationshipPatch
from .role import Role
from .scope import Scope
from .search_expand import SearchExpand
from .search_expand_direction import SearchExpandDirection
from .search_filter import SearchFilter
from .search_filter_metadata import SearchFilterMetadata
from .search_hit import SearchHit
from .search_request import SearchRequest
from .search_result import SearchResult
from .search_result_fusion import SearchResultFusion
from .search_result_fusion_k import SearchResultFusionK
from .search_result_fusion_method import SearchResultFusionMethod
from .search_result_graph import SearchResultGraph
from .search_result_graph_nodes_item import SearchResultGraphNodesItem
from .session_response import SessionResponse
from .session_response_user import SessionResponseUser
from .token_response import TokenResponse
from .type_report import TypeReport
from .type_report_types_item import TypeReportTypesItem
from .unmerge_request import UnmergeRequest
from .unmerged import Unmerged
from .unmerged_metadata import UnmergedMetadata
from .user import User
from .user_page import UserPage
from .user_patch import UserPatch

__all__ = (
    "ApiKey",
    "ApiKeyPage",
    "Change",
    "ChangeDocumentType1",
    "ChangeKind",
    "ChangeOp",
    "ChangePage",
    "Check",
    "CheckStatus",
    "Checks",
    "CreateEntitiesBatchBody",
    "CreateEntitiesBatchBodyOnConflict",
    "CreateEntitiesBatchResponse200",
    "CreateEntitiesBatchResponse200OutcomesItem",
    "CreateEntitiesBatchResponse201",
    "CreateEntitiesBatchResponse201OutcomesItem",
    "CreateRelationshipsBatchBody",
    "CreateRelationshipsBatchBodyOnConflict",
    "CreateRelationshipsBatchResponse200",
    "CreateRelationshipsBatchResponse200OutcomesItem",
    "CreateRelationshipsBatchResponse201",
    "CreateRelationshipsBatchResponse201OutcomesItem",
    "CreateSessionDataBody",
    "CreateSessionDataBodyGrantType",
    "CreateTokenDataBody",
    "CreateTokenDataBodyGrantType",
    "CreatedApiKey",
    "Credentials",
    "Duplicate",
    "DuplicatePage",
    "Embedding",
    "EmbeddingBatch",
    "EmbeddingBatchItemsItem",
    "EmbeddingBatchResult",
    "EmbeddingBatchResultItemsItem",
    "EmbeddingPage",
    "EmbeddingPut",
    "EmbeddingSpace",
    "EmbeddingSpaceDefinition",
    "EmbeddingSpaceDefinitionDistance",
    "EmbeddingSpaceDistance",
    "EmbeddingSpaceList",
    "Entity",
    "EntityMetadata",
    "EntityPage",
    "EntityPatch",
    "EntityPut",
    "EntityRef",
    "ExportGraphFormat",
    "ExportGraphResponse200",
    "GetEntityResponse308",
    "GetHealthResponse503",
    "GetLiveResponse200",
    "GetNeighborsDirection",
    "GetOpenApiResponse200",
    "GetPathDirection",
    "GetReadyResponse503",
    "Graph",
    "GraphNodeRef",
    "GraphNodesItemType0",
    "Health",
    "HealthComponentsItem",
    "Jwks",
    "JwksKeysItem",
    "ListEntitiesSort",
    "ListRelationshipsSort",
    "MergeRequest",
    "MergeRequestMetadata",
    "Metadata",
    "NewApiKey",
    "NewEntity",
    "NewRelationship",
    "NewUser",
    "Principal",
    "PrincipalCredential",
    "PrincipalSignInFailures",
    "Problem",
    "ProblemErrorsItem",
    "Readiness",
    "RefreshRequest",
    "RefreshRequestGrantType",
    "RefreshTokenDataBody",
    "RefreshTokenDataBodyGrantType",
    "Relationship",
    "RelationshipMetadata",
    "RelationshipPage",
    "RelationshipPatch",
    "Role",
    "Scope",
    "SearchExpand",
    "SearchExpandDirection",
    "SearchFilter",
    "SearchFilterMetadata",
    "SearchHit",
    "SearchRequest",
    "SearchResult",
    "SearchResultFusion",
    "SearchResultFusionK",
    "SearchResultFusionMethod",
    "SearchResultGraph",
    "SearchResultGraphNodesItem",
    "SessionResponse",
    "SessionResponseUser",
    "TokenResponse",
    "TypeReport",
    "TypeReportTypesItem",
    "UnmergeRequest",
    "Unmerged",
    "UnmergedMetadata",
    "User",
    "UserPage",
    "UserPatch",
)

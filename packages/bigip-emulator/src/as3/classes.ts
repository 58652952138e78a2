/**
 * AS3 3.56 classes that may appear inside an Application (from the schema's `class` constants).
 * The emulator turns Pool and Service_* into LTM objects; the others are accepted, stored in the
 * declaration and create nothing.
 */
export const APPLICATION_CLASSES = new Set([
  'ALG_Log_Profile', 'Access_Profile', 'Adapt_Profile', 'Address_Discovery', 'Analytics_Profile', 'Analytics_TCP_Profile',
  'Bandwidth_Control_Policy', 'Bot_Defense_Profile', 'CA_Bundle', 'Certificate', 'Certificate_Validator_OCSP', 'Cipher_Group',
  'Cipher_Rule', 'Classification_Profile', 'Connector_Profile', 'DNS_Cache', 'DNS_Logging_Profile', 'DNS_Nameserver',
  'DNS_Profile', 'DNS_TSIG_Key', 'DNS_Zone', 'DOS_Profile', 'Data_Group', 'Endpoint_Policy', 'Endpoint_Strategy',
  'Enforcement_Diameter_Endpoint_Profile', 'Enforcement_Format_Script', 'Enforcement_Forwarding_Endpoint',
  'Enforcement_Interception_Endpoint', 'Enforcement_Listener', 'Enforcement_Policy', 'Enforcement_Profile',
  'Enforcement_Radius_AAA_Profile', 'Enforcement_Service_Chain_Endpoint', 'Enforcement_Subscriber_Management_Profile',
  'Enforcement_iRule', 'FIX_Profile', 'FTP_Profile', 'Firewall_Address_List', 'Firewall_Policy', 'Firewall_Port_List',
  'Firewall_Rule_List', 'GSLB_Data_Center', 'GSLB_Domain', 'GSLB_Monitor', 'GSLB_Pool', 'GSLB_Prober_Pool', 'GSLB_Server',
  'GSLB_Topology_Records', 'GSLB_Topology_Region', 'GSLB_iRule', 'HTML_Profile', 'HTML_Rule', 'HTTP2_Profile',
  'HTTP_Acceleration_Profile', 'HTTP_Compress', 'HTTP_Profile', 'ICAP_Profile', 'IP_Intelligence_Policy', 'IP_Other_Profile',
  'Idle_Timeout_Policy', 'JSON_Profile', 'L4_Profile', 'Log_Destination', 'Log_Publisher', 'Monitor', 'Multiplex_Profile',
  'NAT_Policy', 'NAT_Source_Translation', 'Net_Address_List', 'Net_Port_List', 'PPTP_Profile', 'Per_Request_Access_Policy',
  'Persist', 'Ping_Access_Agent_Properties', 'Ping_Access_Profile', 'Pool', 'Protocol_Inspection_Profile', 'RTSP_Profile',
  'Radius_Profile', 'Rewrite_Profile', 'SIP_Profile', 'SNAT_Pool', 'SNAT_Translation', 'SOCKS_Profile', 'SSE_Profile',
  'SSH_Proxy_Profile', 'Security_Log_Profile', 'Service_Address', 'Service_Forwarding', 'Service_Generic', 'Service_HTTP',
  'Service_HTTPS', 'Service_L4', 'Service_Profile', 'Service_SCTP', 'Service_TCP', 'Service_UDP',
  'Splitsession_Client_Profile', 'Statistics_Profile', 'Stream_Profile', 'TCP_Profile', 'TFTP_Profile', 'TLS_Client',
  'TLS_Server', 'Traffic_Log_Profile', 'UDP_Profile', 'WAF_Policy', 'WebSocket_Profile', 'iFile', 'iRule',
]);

/** Virtual server classes and their default `virtualPort` (undefined: required) and IP protocol. */
export const SERVICE_CLASSES: Record<string, { defaultPort?: number; protocol: 'tcp' | 'udp' | 'sctp' | 'any' }> = {
  Service_HTTP: { defaultPort: 80, protocol: 'tcp' },
  Service_HTTPS: { defaultPort: 443, protocol: 'tcp' },
  Service_TCP: { protocol: 'tcp' },
  Service_L4: { protocol: 'tcp' },
  Service_UDP: { protocol: 'udp' },
  Service_SCTP: { protocol: 'sctp' },
  Service_Generic: { protocol: 'any' },
};

export const ADC_PROPERTIES = new Set(['$schema', 'class', 'schemaVersion', 'id', 'label', 'remark', 'updateMode', 'controls', 'constants', 'scratch', 'target']);
export const TENANT_PROPERTIES = new Set(['class', 'defaultRouteDomain', 'useCommonRouteDomainTenant', 'label', 'remark', 'enable', 'controls', 'constants', 'verifiers', 'optimisticLockKey']);
export const APPLICATION_PROPERTIES = new Set(['class', 'template', 'label', 'remark', 'enable', 'constants', 'schemaOverlay', 'serviceMain']);
export const POOL_PROPERTIES = new Set(['class', 'members', 'monitors', 'minimumMonitors', 'loadBalancingMode', 'minimumMembersActive', 'reselectTries', 'serviceDownAction', 'slowRampTime', 'allowNATEnabled', 'allowSNATEnabled', 'label', 'remark', 'metadata']);
export const MEMBER_PROPERTIES = new Set([
  'servicePort', 'serverAddresses', 'servers', 'addressDiscovery', 'shareNodes', 'adminState', 'enable', 'ratio', 'priorityGroup',
  'connectionLimit', 'rateLimit', 'dynamicRatio', 'monitors', 'minimumMonitors', 'routeDomain', 'remark', 'metadata', 'bigip',
]);
export const AS3_SCHEMA_VERSION = /^3[.]([0-9]|[1234][0-9]|5[0-6])($|[.][0-9]+$)/;
export const AS3_NAME = /^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$/;
export const LOAD_BALANCING_MODES = [
  'dynamic-ratio-member', 'dynamic-ratio-node', 'fastest-app-response', 'fastest-node', 'least-connections-member',
  'least-connections-node', 'least-sessions', 'observed-member', 'observed-node', 'predictive-member', 'predictive-node',
  'ratio-least-connections-member', 'ratio-least-connections-node', 'ratio-member', 'ratio-node', 'ratio-session',
  'round-robin', 'weighted-least-connections-member', 'weighted-least-connections-node',
];

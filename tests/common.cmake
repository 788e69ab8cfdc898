# Unit tests of common/ modules.
agentflow_unit_test(test_check SOURCES unit/test_check.c LIBS agentflow_common)
agentflow_unit_test(test_hmap SOURCES unit/test_hmap.c LIBS agentflow_common)
agentflow_unit_test(test_ratelimit SOURCES unit/test_ratelimit.c LIBS agentflow_common)
agentflow_unit_test(test_opts SOURCES unit/test_opts.c LIBS agentflow_common)
agentflow_unit_test(test_text SOURCES unit/test_text.c LIBS agentflow_common)
agentflow_unit_test(test_json_check SOURCES unit/test_json_check.c LIBS agentflow_common)
agentflow_unit_test(test_json_id SOURCES unit/test_json_id.c LIBS agentflow_common)
agentflow_unit_test(test_http_json SOURCES unit/test_http_json.c LIBS agentflow_common)
agentflow_unit_test(test_cmd_table SOURCES unit/test_cmd_table.c LIBS agentflow_common)
agentflow_unit_test(test_man SOURCES unit/test_man.c LIBS agentflow_common)
agentflow_unit_test(test_trust SOURCES unit/test_trust.c LIBS agentflow_certs agentflow_common)
agentflow_unit_test(test_workq SOURCES unit/test_workq.c LIBS agentflow_common)
agentflow_unit_test(test_hostport SOURCES unit/test_hostport.c LIBS agentflow_common)
agentflow_unit_test(test_prom SOURCES unit/test_prom.c LIBS agentflow_common)
agentflow_unit_test(test_rng SOURCES unit/test_rng.c LIBS agentflow_common)
agentflow_unit_test(test_file SOURCES unit/test_file.c LIBS agentflow_common)
agentflow_unit_test(test_wall_timer SOURCES unit/test_wall_timer.c LIBS agentflow_common)
agentflow_unit_test(test_log SOURCES unit/test_log.c LIBS agentflow_common)
agentflow_unit_test(test_http_guard SOURCES unit/test_http_guard.c LIBS agentflow_common)
# cli/yaml_json.c: workflow definitions written in YAML.
agentflow_unit_test(test_yaml_json SOURCES unit/test_yaml_json.c
  ${CMAKE_SOURCE_DIR}/cli/yaml_json.c LIBS PkgConfig::JANSSON PkgConfig::YAML)
target_include_directories(test_yaml_json PRIVATE ${CMAKE_SOURCE_DIR}/cli)
# cli/cli_fmt.c and cli/cli_find.c: the CLI's uptimes for people, and
# where it finds the node's API and token (the user's cli.conf).
agentflow_unit_test(test_cli_fmt SOURCES unit/test_cli_fmt.c
  ${CMAKE_SOURCE_DIR}/cli/cli_fmt.c LIBS agentflow_common PkgConfig::JANSSON)
target_include_directories(test_cli_fmt PRIVATE ${CMAKE_SOURCE_DIR}/cli)
agentflow_unit_test(test_cli_find SOURCES unit/test_cli_find.c
  ${CMAKE_SOURCE_DIR}/cli/cli_find.c LIBS agentflow_common PkgConfig::JANSSON)
target_include_directories(test_cli_find PRIVATE ${CMAKE_SOURCE_DIR}/cli)

-- One database per bureau's service: no service can read another's tables.
CREATE DATABASE roster;
CREATE DATABASE issuance;
CREATE DATABASE redemption;
CREATE DATABASE settlement;
CREATE DATABASE notify;
CREATE DATABASE reporting;
CREATE DATABASE gateway;

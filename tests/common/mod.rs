#![allow(dead_code)]

pub mod database;
